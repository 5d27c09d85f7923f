// CPU time per unit of work (a checkout, a request), by process: what /proc says each
// process of the shop used between two snapshots, divided by the work done meanwhile.
import type { CpuSnapshot } from '../bench/checkout.ts';

export type CpuShare = { name: string; ms: number };

/** Each process's CPU ms between the snapshots per unit, busiest first; `units` at least 1. */
export function cpuPerUnit(before: CpuSnapshot, after: CpuSnapshot, units: number): CpuShare[] {
  return [...after.group]
    .map(([name, ms]) => ({ name, ms: (ms - (before.group.get(name) ?? ms)) / Math.max(1, units) }))
    .sort((a, b) => b.ms - a.ms);
}

/** How busy the machine was between the snapshots: 1 is every core. */
export function machineBusy(before: CpuSnapshot, after: CpuSnapshot): number {
  const total = after.machine.total - before.machine.total;
  return total > 0 ? (after.machine.busy - before.machine.busy) / total : 0;
}

/**
 * The named processes in that order, then the rest of the shop summed as "others": the
 * hop's own processes first, whatever else ran beside them last.
 */
export function itemize(shares: CpuShare[], names: string[]): CpuShare[] {
  const named = names.map((name) => ({ name, ms: shares.find((s) => s.name === name)?.ms ?? 0 }));
  const others = shares.filter((s) => !names.includes(s.name)).reduce((sum, s) => sum + s.ms, 0);
  return [...named, { name: 'others', ms: others }];
}

export const formatShares = (shares: CpuShare[], digits = 2) =>
  shares.map((s) => `${s.name} ${s.ms.toFixed(digits)}`).join(', ');

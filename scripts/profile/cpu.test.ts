import { describe, expect, it } from 'vitest';
import type { CpuSnapshot } from '../bench/checkout.ts';
import { cpuPerUnit, itemize, machineBusy } from './cpu.ts';

const snapshot = (group: Record<string, number>, busy: number, total: number): CpuSnapshot => ({
  group: new Map(Object.entries(group)),
  machine: { busy, total },
});

describe('cpu per unit of work', () => {
  const before = snapshot({ gateway: 100, users: 50, redis: 10 }, 1_000, 4_000);
  const after = snapshot({ gateway: 400, users: 110, redis: 16, late: 30 }, 1_800, 6_000);

  it("divides each process's CPU between the snapshots by the work done, busiest first", () => {
    expect(cpuPerUnit(before, after, 100)).toEqual([
      { name: 'gateway', ms: 3 },
      { name: 'users', ms: 0.6 },
      { name: 'redis', ms: 0.06 },
      // A process missing from the first snapshot started meanwhile: nothing to compare.
      { name: 'late', ms: 0 },
    ]);
  });

  it('puts the named processes first, in order, and the rest together', () => {
    const shares = cpuPerUnit(before, snapshot({ gateway: 400, users: 110, redis: 16 }, 0, 0), 100);
    expect(itemize(shares, ['users', 'gateway', 'missing'])).toEqual([
      { name: 'users', ms: 0.6 },
      { name: 'gateway', ms: 3 },
      { name: 'missing', ms: 0 },
      { name: 'others', ms: 0.06 },
    ]);
  });

  it("says how busy the machine was: 1 is every core's time", () => {
    expect(machineBusy(before, after)).toBe(0.4);
  });
});

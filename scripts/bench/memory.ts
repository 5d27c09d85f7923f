import { readFileSync } from 'node:fs';
import type { ProcessGroup } from '@shop/devkit/process';
import { groupTrees, processTable } from './proc.ts';

export type ProcessMemory = { name: string; processes: number; pssMiB: number };

/** Proportional set size: shared pages split among the processes that map them. */
function pssKiB(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The PSS of every process the group runs, each summed over its process tree (PostgreSQL's workers). */
export function measureMemory(group: ProcessGroup): ProcessMemory[] {
  return [...groupTrees(group, processTable())].map(([name, tree]) => {
    const kib = tree.reduce((sum, member) => sum + pssKiB(member), 0);
    return { name, processes: tree.length, pssMiB: kib / 1024 };
  });
}

export function formatMemory(rows: ProcessMemory[]): string {
  const line = (name: string, processes: string, mib: number) =>
    `  ${name.padEnd(22)} ${processes.padStart(9)}   ${mib.toFixed(1).padStart(7)} MiB`;
  const total = rows.reduce((sum, row) => sum + row.pssMiB, 0);
  return [
    ...rows.map((row) =>
      line(row.name, row.processes > 1 ? `${row.processes} procs` : '', row.pssMiB),
    ),
    line('total', `${rows.reduce((sum, row) => sum + row.processes, 0)} procs`, total),
  ].join('\n');
}

import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessGroup } from '@shop/devkit/process';

export type ProcessMemory = { name: string; processes: number; pssMiB: number };

/** Parent pid of every live process, read from /proc. */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which may itself hold spaces and parentheses.
      const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(ppid));
    } catch {
      // exited while we looked
    }
  }
  return parentOf;
}

function treeOf(root: number, parentOf: Map<number, number>): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

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
  const parentOf = parents();
  return group.names().flatMap((name) => {
    const pid = group.pidOf(name);
    if (pid === undefined) return [];
    const tree = treeOf(pid, parentOf);
    const kib = tree.reduce((sum, member) => sum + pssKiB(member), 0);
    return [{ name, processes: tree.length, pssMiB: kib / 1024 }];
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

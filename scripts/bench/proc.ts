// What /proc says of every live process: its parent and the CPU time it has used.
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessGroup } from '@shop/devkit/process';

const ticksPerSecond = 100; // USER_HZ on Linux

export type ProcessTable = Map<number, { ppid: number; cpuMs: number }>;

/**
 * The parent and CPU time (in ms) of every live process: its own (utime + stime) and that
 * of its children it has reaped (cutime + cstime). Without the latter a process tree's sum
 * would drop whenever a worker exits: PostgreSQL's backends end with their connections, so
 * the server's CPU went missing from some checkout steps.
 */
export function processTable(): ProcessTable {
  const table: ProcessTable = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which may itself hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      table.set(Number(entry), { ppid: Number(fields[1]), cpuMs: (ticks * 1000) / ticksPerSecond });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/** `root` and every process below it. */
export function treeOf(root: number, table: ProcessTable): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, row] of table) if (row.ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** Each process the group runs with its process tree (PostgreSQL's workers), by name. */
export function groupTrees(group: ProcessGroup, table: ProcessTable): Map<string, number[]> {
  const trees = new Map<string, number[]>();
  for (const name of group.names()) {
    const root = group.pidOf(name);
    if (root !== undefined) trees.set(name, treeOf(root, table));
  }
  return trees;
}

/** Busy and total CPU ms of the whole machine so far (/proc/stat, every core). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / ticksPerSecond, total: (total * 1000) / ticksPerSecond };
}

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { holdsWithin, isRunning, listeningAddresses, portAnswers } from '../../process/probes.ts';
import { ProcessGroup } from '../../process/processes.ts';
import type { BrokerHandle } from '../profiles.ts';

/**
 * A scratch folder and a ProcessGroup of its own for one broker under test, keeping the
 * last 8 KB of its output for the assertions that name what it printed.
 */
export function isolatedBroker(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `shop-${name}-`));
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-8_000);
    },
    onUnexpectedExit: () => {},
  });
  return {
    dir,
    group,
    output: () => output,
    removeDir: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Processes whose command line names `text` (the broker's folder): none may outlive it. */
function processesNaming(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * Stops the broker and checks that nothing is left: no process of its group or naming its
 * folder, no open port; and that stopping again is harmless (the shop stops its processes
 * first, then calls stop).
 */
export async function expectStopsCleanly(
  broker: BrokerHandle,
  { group, dir }: { group: ProcessGroup; dir: string },
  ports: number[],
): Promise<void> {
  const pids = broker.pids();
  await broker.stop();
  expect(group.names()).toEqual([]);
  for (const pid of pids) expect(isRunning(pid)).toBe(false);
  expect(processesNaming(dir)).toEqual([]);
  for (const open of ports) {
    expect(await portAnswers(open)).toBe(false);
    expect(listeningAddresses(open)).toEqual([]);
  }
  await broker.stop();
}

/**
 * SIGKILLs the broker's one process, checks that it is gone and its port closed, restarts
 * it, and checks that a new process serves the same port, on loopback only.
 */
export async function expectKillAndRestart(broker: BrokerHandle, port: number): Promise<void> {
  const [pid] = broker.pids();
  expect(pid).toBeDefined();
  await broker.kill();
  expect(await holdsWithin(5_000, () => !isRunning(pid as number))).toBe(true);
  expect(await portAnswers(port)).toBe(false);
  await broker.restart();
  expect(broker.pids()).toHaveLength(1);
  expect(broker.pids()[0]).not.toBe(pid);
  expect(listeningAddresses(port)).toEqual(['127.0.0.1']);
}

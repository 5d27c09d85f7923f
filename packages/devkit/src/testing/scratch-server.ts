import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from '../process/processes.ts';

export type ScratchServer<T> = {
  /** What `start` returned. */
  server: T;
  /** The server's folder, deleted on stop (and when the test process exits). */
  dir: string;
  group: ProcessGroup;
  /** The last lines the server wrote, for an error message. */
  output(): string;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
};

/**
 * One throw-away server for a test file: a temp folder, a process group that keeps the
 * server's last output for error messages, and a stop that leaves nothing behind. If
 * `start` fails, the folder goes and the error carries the server's output.
 *
 * @example
 * const redis = await startScratchServer({ prefix: 'shop-redis-', processName: 'redis' },
 *   ({ dir, group }) => startRedis(group, dir, port));
 */
export async function startScratchServer<T>(
  options: { prefix: string; processName: string; parentDir?: string },
  start: (home: { dir: string; group: ProcessGroup }) => Promise<T>,
): Promise<ScratchServer<T>> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), options.prefix));
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-8_000);
    },
    // A server that dies by itself fails its start here, or the requests of its test.
    onUnexpectedExit: () => {},
  });
  const stop = async () => {
    await group.stop(options.processName, { graceMs: 5_000 });
    process.removeListener('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const server = await start({ dir, group });
    return { server, dir, group, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
}

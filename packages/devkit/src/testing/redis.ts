import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../supervisor/ports.ts';
import { ProcessGroup } from '../supervisor/processes.ts';
import { pingRedis, startRedis } from '../supervisor/redis.ts';

export type TestRedis = {
  host: string;
  port: number;
  /** `host:port`, as REDIS_HOST takes it. */
  address: string;
  /** Stops the server, as an outage would; `start()` brings it back on the same port. */
  pause(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
};

const processName = 'redis';

/**
 * A private, throw-away redis-server for one test file, in a temp folder, on a free
 * loopback port. Nothing is assumed running.
 *
 * @example
 * const redis = await startTestRedis();
 * const client = new Redis({ host: redis.host, port: redis.port });
 * await redis.stop();
 */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-redis-'));
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-8_000);
    },
    // A server that dies by itself fails its start here, or the commands of its test.
    onUnexpectedExit: () => {},
  });
  const stopServer = () => group.stop(processName, { graceMs: 5_000 });
  try {
    const [port = 0] = await freePorts(1);
    const server = await startRedis(group, dir, port);
    return {
      ...server,
      pause: stopServer,
      async start() {
        if (group.has(processName)) return;
        group.restart(processName);
        const deadline = Date.now() + 15_000;
        while (!(await pingRedis(port))) {
          if (Date.now() > deadline) throw new Error(`redis did not start again\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      async stop() {
        await stopServer();
        process.removeListener('exit', removeOnExit);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopServer();
    process.removeListener('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${output}`);
  }
}

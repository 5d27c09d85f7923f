import { pingRedis, startRedis } from '../infra/redis.ts';
import { pollUntil } from '../process/poll.ts';
import { freePorts } from '../process/ports.ts';
import { startScratchServer } from './scratch-server.ts';

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
  const [port = 0] = await freePorts(1);
  const scratch = await startScratchServer(
    { prefix: 'shop-redis-', processName },
    ({ dir, group }) => startRedis(group, dir, port),
  );
  const { group } = scratch;
  return {
    ...scratch.server,
    pause: () => group.stop(processName, { graceMs: 5_000 }),
    async start() {
      if (group.has(processName)) return;
      group.restart(processName);
      await pollUntil(async () => ((await pingRedis(port)) ? true : undefined), {
        what: 'redis to start again',
        timeoutMs: 15_000,
        intervalMs: 50,
      }).catch((error: Error) => {
        throw new Error(`${error.message}\n${scratch.output()}`);
      });
    },
    stop: scratch.stop,
  };
}

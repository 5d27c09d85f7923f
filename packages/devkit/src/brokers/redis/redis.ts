import { pingRedis, type RedisHandle } from '../../infra/redis.ts';
import { pollUntil } from '../../process/poll.ts';
import type { ProcessGroup } from '../../process/processes.ts';
import type { BrokerHandle } from '../profiles.ts';

/** Redis Streams, the default: the shop's own Redis (which always runs) is the broker. */
export function redisBroker(group: ProcessGroup, redis: RedisHandle): BrokerHandle {
  return {
    profile: 'redis',
    sidecarEnv: {},
    processNames: [],
    kill: () => group.stop('redis', { signal: 'SIGKILL' }),
    async restart() {
      group.restart('redis');
      const answers = () => pingRedis(redis.port, redis.host, redis.password);
      await pollUntil(async () => ((await answers()) ? true : undefined), {
        what: 'redis to answer after its restart',
        timeoutMs: 30_000,
        intervalMs: 50,
      });
    },
    pids: () => [group.pidOf('redis')].filter((pid) => pid !== undefined),
    stop: async () => {},
  };
}

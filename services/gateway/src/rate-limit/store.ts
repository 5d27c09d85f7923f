import type { Logger } from '@shop/platform';
import { Redis } from 'ioredis';

/** How long one limit check may wait for Redis before the request goes on unchecked. */
const commandTimeoutMs = 250;

/**
 * The connection to the Redis (`REDIS_HOST`, `host:port`) that holds every replica's
 * counters. A check never waits for Redis to come back: with no connection a command fails
 * at once (no offline queue) and the request goes on unchecked, while the client keeps
 * reconnecting in the background.
 */
export function connectRateLimitStore(
  config: { REDIS_HOST: string; REDIS_PASSWORD?: string | undefined; REDIS_TLS?: boolean },
  logger: Logger,
): Redis {
  const { hostname, port } = new URL(`redis://${config.REDIS_HOST}`);
  const redis = new Redis({
    host: hostname.replace(/^\[(.*)\]$/, '$1'),
    port: port ? Number(port) : 6379,
    password: config.REDIS_PASSWORD || undefined,
    ...(config.REDIS_TLS && { tls: {} }),
    connectionName: 'gateway-rate-limit',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
  });
  // The requests that pass unchecked report an outage, with a metric; this says only when
  // the connection itself comes and goes.
  let connected = false;
  redis.on('ready', () => {
    if (!connected) logger.info('rate-limit store connected', { redis: config.REDIS_HOST });
    connected = true;
  });
  redis.on('error', (error) => {
    if (connected) logger.warn('rate-limit store connection lost', { error });
    connected = false;
  });
  return redis;
}

import type { Logger } from '@shop/platform';
import type { z } from 'zod';
import type { NotificationsDb } from '../database.ts';
import type { streamEnv } from './config.ts';
import { mongoNotificationFeed } from './feed.ts';
import { createStreamHub } from './hub.ts';
import { startStreamLimits } from './limits.ts';
import type { StreamRouteDeps } from './routes.ts';

/**
 * This replica's live stream: the hub polling the service's database and the stream
 * limits, on the service's lifecycle. The hub ends its streams before the drain (open
 * streams would hold it).
 *
 * @example
 * const streams = startStreams({ db: database.db, logger, config, lifecycle });
 * createApp({ ..., streams, onCreated: streams.hub.push });
 */
export function startStreams(deps: {
  db: NotificationsDb;
  logger: Logger;
  config: z.infer<typeof streamEnv>;
  lifecycle: {
    every(name: string, intervalMs: number, job: () => Promise<unknown>): void;
    endsBeforeDrain(name: string, end: () => unknown): void;
  };
}): Omit<StreamRouteDeps, 'logger'> {
  const { config, lifecycle } = deps;
  const hub = createStreamHub({
    feed: mongoNotificationFeed(deps.db.notifications),
    logger: deps.logger,
    pollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
    gapWaitMs: config.STREAM_GAP_WAIT_MS,
  });
  lifecycle.endsBeforeDrain('notification streams', () => hub.close());
  const limits = startStreamLimits(deps);
  return { hub, limits, heartbeatMs: config.STREAM_HEARTBEAT_MS };
}

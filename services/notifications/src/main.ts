import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { notificationsEnv, serviceName } from './config.ts';
import { openNotificationsDatabase } from './database.ts';
import { startEmail } from './email/sender.ts';
import { mongoNotificationFeed } from './stream/feed.ts';
import { createStreamHub } from './stream/hub.ts';
import { startStreamLimits } from './stream/limits.ts';
import { wishlistAudienceViaDapr } from './wishlist-alerts/audience.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, notificationsEnv);
const database = lifecycle.closes(
  'database',
  await openNotificationsDatabase(config.MONGODB_URL, logger),
);

// The live stream ends before the drain (open streams would hold it); mail is sent by a job.
const streams = createStreamHub({
  feed: mongoNotificationFeed(database.db.notifications),
  logger,
  pollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
  gapWaitMs: config.STREAM_GAP_WAIT_MS,
});
lifecycle.endsBeforeDrain('notification streams', () => streams.close());
const streamLimits = startStreamLimits({ db: database.db, logger, config, lifecycle });
const email = await startEmail({ db: database.mongo, sidecar, logger, config, lifecycle });

const app = createApp({
  config,
  logger,
  db: database.db,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  audience: wishlistAudienceViaDapr(sidecar),
  readiness: { sidecar: sidecar.ready, database: database.ping },
  streams: { hub: streams, limits: streamLimits, heartbeatMs: config.STREAM_HEARTBEAT_MS },
  onCreated: streams.push,
  email,
});
runService({ app, config, logger, lifecycle, sidecar });

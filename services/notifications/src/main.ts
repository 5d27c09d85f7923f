import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { notificationsEnv, serviceName } from './config.ts';
import { openNotificationsDatabase } from './database.ts';
import { startEmail } from './email/sender.ts';
import { broadcastPublisher } from './stream/broadcast.ts';
import { startStreams } from './stream/start.ts';
import { wishlistAudienceViaDapr } from './wishlist-alerts/audience.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, notificationsEnv);
const database = await openNotificationsDatabase(config.MONGODB_URL, logger);
const { db, ping } = lifecycle.closes('database', database);
const streams = startStreams({ db, logger, config, lifecycle });
const broadcast = broadcastPublisher({ sidecar, logger });
const email = await startEmail({ db: database.mongo, sidecar, logger, config, lifecycle });

const app = createApp({
  config,
  logger,
  db,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  audience: wishlistAudienceViaDapr(sidecar),
  readiness: { sidecar: sidecar.ready, database: ping },
  streams,
  // This replica's streams at once; the other replicas' through the broadcast.
  onCreated: (notification) => {
    streams.hub.push(notification);
    broadcast(notification);
  },
  email,
});
runService({ app, config, logger, lifecycle, sidecar });

import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceDatabase, sqlDeadLetterStore, startOutboxRelay } from '@shop/platform/db';
import { createApp } from './app.ts';
import { ordersEnv, serviceName } from './config.ts';
import { purgeExpiredKeys } from './idempotency/key-store.ts';
import { catalogViaDapr } from './orders/catalog.ts';
import type { OrdersTables } from './tables.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, ordersEnv);
const migrations = new URL('../migrations', import.meta.url);
const database = await openServiceDatabase<OrdersTables>({ config, logger, migrations });
const { db } = lifecycle.closes('database', database);
const outbox = startOutboxRelay({ db, publish: sidecar.publish, logger });
lifecycle.closes('outbox relay', outbox);
lifecycle.every('idempotency key purge', 60 * 60_000, async () => {
  logger.info('expired idempotency keys purged', { keys: await purgeExpiredKeys(db) });
});

const app = createApp({
  config,
  logger,
  db,
  outbox,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  catalog: catalogViaDapr(sidecar, logger),
  deadLetters: sqlDeadLetterStore(db),
  readiness: { sidecar: sidecar.ready, database: database.ping },
});
runService({ app, config, logger, lifecycle });

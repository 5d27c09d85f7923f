import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceDatabase, sqlDeadLetterStore, startOutboxRelay } from '@shop/platform/db';
import { createApp } from './app.ts';
import { catalogEnv, serviceName } from './config.ts';
import { migrations, pgliteExtensions } from './database.ts';
import type { CatalogTables } from './tables.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, catalogEnv);
const database = await openServiceDatabase<CatalogTables>({
  config,
  logger,
  migrations,
  pgliteExtensions,
});
const { db } = lifecycle.closes('database', database);
const outbox = startOutboxRelay({ db, publish: sidecar.publish, logger });
lifecycle.closes('outbox relay', outbox);

const app = createApp({
  config,
  logger,
  db,
  outbox,
  stateStore: sidecar,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  deadLetters: sqlDeadLetterStore(db),
  readiness: { sidecar: sidecar.ready, database: database.ping },
});
runService({ app, config, logger, lifecycle });

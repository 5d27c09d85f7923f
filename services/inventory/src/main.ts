import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceDatabase, startOutboxRelay } from '@shop/platform/db';
import { createApp } from './app.ts';
import { inventoryEnv, serviceName } from './config.ts';
import type { InventoryTables } from './tables.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, inventoryEnv);
const migrations = new URL('../migrations', import.meta.url);
const database = await openServiceDatabase<InventoryTables>({ config, logger, migrations });
const { db } = lifecycle.closes('database', database);
const outbox = startOutboxRelay({ db, publish: sidecar.publish, logger });
lifecycle.closes('outbox relay', outbox);

const app = createApp({
  config,
  logger,
  db,
  outbox,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  readiness: { sidecar: sidecar.ready, database: database.ping },
});
runService({ app, config, logger, lifecycle });

import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceStorage, sqlDeadLetterStore } from '@shop/platform/db';
import { createApp } from './app.ts';
import { catalogEnv, serviceName } from './config.ts';
import { migrations, pgliteExtensions } from './database.ts';
import type { CatalogTables } from './tables.ts';

const service = serviceDefaults(serviceName, catalogEnv);
const { config, logger, sidecar, lifecycle } = service;
const storage = { migrations, pgliteExtensions };
const { db, outbox, readiness } = await openServiceStorage<CatalogTables>(service, storage);

const app = createApp({
  config,
  logger,
  db,
  outbox,
  stateStore: sidecar,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  deadLetters: sqlDeadLetterStore(db),
  readiness,
});
runService({ app, config, logger, lifecycle, sidecar });

import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceStorage } from '@shop/platform/db';
import { createApp } from './app.ts';
import { inventoryEnv, serviceName } from './config.ts';
import type { InventoryTables } from './tables.ts';

const service = serviceDefaults(serviceName, inventoryEnv);
const { config, logger, sidecar, lifecycle } = service;
const migrations = new URL('../migrations', import.meta.url);
const { db, outbox, readiness } = await openServiceStorage<InventoryTables>(service, {
  migrations,
});

const app = createApp({
  config,
  logger,
  db,
  outbox,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  readiness,
});
runService({ app, config, logger, lifecycle, sidecar });

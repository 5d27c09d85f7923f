import { catalogViaDapr, runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceStorage, sqlDeadLetterStore } from '@shop/platform/db';
import { createApp } from './app.ts';
import { ordersEnv, serviceName } from './config.ts';
import { purgeExpiredKeys } from './idempotency/key-store.ts';
import type { OrdersTables } from './tables.ts';

const service = serviceDefaults(serviceName, ordersEnv);
const { config, logger, sidecar, lifecycle } = service;
const migrations = new URL('../migrations', import.meta.url);
const { db, outbox, readiness } = await openServiceStorage<OrdersTables>(service, { migrations });
lifecycle.every('idempotency key purge', 60 * 60_000, async () => {
  logger.info('expired idempotency keys purged', { keys: await purgeExpiredKeys(db) });
});

const app = createApp({
  config,
  logger,
  db,
  outbox,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  catalog: catalogViaDapr(sidecar, logger, {
    unavailableDetail:
      'the catalog could not be reached to price the order; nothing was placed, retry with the same Idempotency-Key',
  }),
  deadLetters: sqlDeadLetterStore(db),
  readiness,
});
runService({ app, config, logger, lifecycle, sidecar });

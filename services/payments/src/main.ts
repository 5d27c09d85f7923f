import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceStorage, sqlDeadLetterStore } from '@shop/platform/db';
import { createApp } from './app.ts';
import { paymentsEnv, serviceName } from './config.ts';
import { paymentProviderFrom } from './providers/select.ts';
import type { PaymentsTables } from './tables.ts';

const service = serviceDefaults(serviceName, paymentsEnv);
const { config, logger, sidecar, lifecycle } = service;
const migrations = new URL('../migrations', import.meta.url);
const { db, outbox, readiness } = await openServiceStorage<PaymentsTables>(service, { migrations });
const provider = await paymentProviderFrom(config);
logger.info('payment provider', { provider: provider.name });

const app = createApp({
  config,
  logger,
  db,
  outbox,
  provider,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  deadLetters: sqlDeadLetterStore(db),
  readiness,
});
runService({ app, config, logger, lifecycle, sidecar });

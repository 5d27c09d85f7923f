import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { openServiceDatabase, sqlDeadLetterStore, startOutboxRelay } from '@shop/platform/db';
import { createApp } from './app.ts';
import { paymentsEnv, serviceName } from './config.ts';
import { paymentProviderFrom } from './providers/select.ts';
import type { PaymentsTables } from './tables.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, paymentsEnv);
const migrations = new URL('../migrations', import.meta.url);
const database = await openServiceDatabase<PaymentsTables>({ config, logger, migrations });
const { db } = lifecycle.closes('database', database);
const outbox = startOutboxRelay({ db, publish: sidecar.publish, logger });
lifecycle.closes('outbox relay', outbox);
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
  readiness: { sidecar: sidecar.ready, database: database.ping },
});
runService({ app, config, logger, lifecycle });

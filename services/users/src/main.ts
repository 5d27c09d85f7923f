import { runService, serviceDefaults } from '@shop/platform';
import { openServiceDatabase, startOutboxRelay } from '@shop/platform/db';
import { ensureAdmin } from './accounts/service.ts';
import { createApp } from './app.ts';
import { serviceName, usersEnv } from './config.ts';
import { purgeSessions } from './sessions/service.ts';
import { signingKeyringViaDapr } from './signing-keys/keyring.ts';
import type { UsersTables } from './tables.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, usersEnv);
const migrations = new URL('../migrations', import.meta.url);
const database = await openServiceDatabase<UsersTables>({ config, logger, migrations });
const { db } = lifecycle.closes('database', database);
const keyring = lifecycle.closes(
  'keyring',
  await signingKeyringViaDapr({ config, sidecar, logger }),
);
const outbox = startOutboxRelay({ db, publish: sidecar.publish, logger });
lifecycle.closes('outbox relay', outbox);
lifecycle.every('session purge', 60 * 60_000, () => purgeSessions({ db, logger }));

if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const admin = { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD };
  const outcome = await ensureAdmin({ db, outbox, logger }, admin);
  logger.info('admin account checked', { email: admin.email, outcome });
}

const readiness = { sidecar: sidecar.ready, database: database.ping };
const app = createApp({ config, logger, db, outbox, keyring, readiness });
runService({ app, config, logger, lifecycle });

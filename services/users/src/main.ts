import { runService, serviceDefaults } from '@shop/platform';
import { openServiceStorage } from '@shop/platform/db';
import { ensureAdmin } from './accounts/service.ts';
import { createApp } from './app.ts';
import { serviceName, usersEnv } from './config.ts';
import { purgeSessions } from './sessions/service.ts';
import { signingKeyringViaDapr } from './signing-keys/keyring.ts';
import type { UsersTables } from './tables.ts';

const service = serviceDefaults(serviceName, usersEnv);
const { config, logger, sidecar, lifecycle } = service;
const migrations = new URL('../migrations', import.meta.url);
const { db, outbox, readiness } = await openServiceStorage<UsersTables>(service, { migrations });
const keyring = lifecycle.closes(
  'keyring',
  await signingKeyringViaDapr({ config, sidecar, logger }),
);
const clock = () => new Date();
lifecycle.every('session purge', 60 * 60_000, () => purgeSessions({ db, logger, clock }));

if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const admin = { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD };
  const outcome = await ensureAdmin({ db, outbox, logger }, admin);
  logger.info('admin account checked', { email: admin.email, outcome });
}

const app = createApp({ config, logger, db, outbox, keyring, readiness });
runService({ app, config, logger, lifecycle, sidecar });

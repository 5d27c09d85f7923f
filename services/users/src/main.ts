import { fileURLToPath } from 'node:url';
import { runService, serviceDefaults } from '@shop/platform';
import { createKeyring, loadSigningKeys, signingKeysSecretName } from '@shop/platform/auth';
import { createDatabase, migrateToLatest, startOutboxRelay } from '@shop/platform/db';
import { ensureAdmin } from './accounts/service.ts';
import { createApp } from './app.ts';
import { usersEnv } from './config.ts';
import { purgeRefreshTokens } from './sessions/refresh-tokens.ts';
import { purgeThrottle } from './sessions/throttle.ts';
import type { UsersTables } from './tables.ts';

const { config, logger, sidecar } = serviceDefaults('users', usersEnv);
const database = createDatabase<UsersTables>({
  url: config.DATABASE_URL,
  pgliteDataDir: config.PGLITE_DATA_DIR,
  logger,
});
if (config.MIGRATE_ON_START) {
  await migrateToLatest(
    database.db,
    fileURLToPath(new URL('../migrations', import.meta.url)),
    logger,
  );
}

// The secret store answers only once the sidecar is up, and this service cannot sign without it.
await sidecar.waitUntilReady();
const keyring = await createKeyring({
  load: () =>
    loadSigningKeys(() => sidecar.getSecret(config.SECRET_STORE_NAME, signingKeysSecretName)),
  refreshMs: config.SIGNING_KEYS_REFRESH_MS,
  logger,
});
const outbox = startOutboxRelay({
  db: database.db,
  publish: (event) => sidecar.publish(event),
  logger,
});

const app = createApp({
  config,
  logger,
  db: database.db,
  outbox,
  keyring,
  readiness: { sidecar: sidecar.ready, database: database.ping },
});

const purge = async () => {
  try {
    const purged = await purgeRefreshTokens(database.db);
    await purgeThrottle(database.db);
    logger.info('expired and revoked sessions purged', purged);
  } catch (error) {
    logger.warn('session purge failed', { error });
  }
};
const purgeTimer = setInterval(purge, 60 * 60_000);
void purge();

if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const outcome = await ensureAdmin(
    { db: database.db, outbox, logger },
    { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
  );
  logger.info('admin account checked', { email: config.ADMIN_EMAIL, outcome });
}

runService({
  app,
  config,
  logger,
  onShutdown: async () => {
    clearInterval(purgeTimer);
    keyring.stop();
    await outbox.stop();
    await database.close();
  },
});

import { createLogger, createSidecar, loadConfig, runService } from '@shop/platform';
import { createMemoryUserRepository } from './accounts/repository.ts';
import { ensureAdmin } from './accounts/service.ts';
import { createApp } from './app.ts';
import { usersEnv } from './config.ts';

const config = loadConfig(usersEnv);
const logger = createLogger({ service: 'users', level: config.LOG_LEVEL });
const sidecar = createSidecar(config, logger);
const users = createMemoryUserRepository();
const app = createApp({ config, logger, sidecar, users });

runService({
  app,
  port: config.APP_PORT,
  hostname: config.APP_HOST,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});

if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const credentials = { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD };
  // The admin's registration publishes an event, so it waits for the sidecar.
  void (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await sidecar.ready();
        await ensureAdmin({ users, sidecar, logger }, credentials);
        logger.info('admin account ensured', { email: config.ADMIN_EMAIL });
        return;
      } catch (error) {
        if (attempt % 10 === 0) logger.warn('admin bootstrap still waiting', { error });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
}

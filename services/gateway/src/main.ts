import { createLogger, createSidecar, loadConfig, runService } from '@shop/platform';
import { createApp } from './app.ts';
import { gatewayEnv } from './config.ts';

const config = loadConfig(gatewayEnv);
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const sidecar = createSidecar(config, logger);
const app = createApp({ config, logger, sidecar });

runService({
  app,
  port: config.APP_PORT,
  hostname: config.APP_HOST,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});

import {
  createLogger,
  createMemoryDeadLetterStore,
  createSidecar,
  loadConfig,
  runService,
} from '@shop/platform';
import { createApp } from './app.ts';
import { notificationsEnv } from './config.ts';
import { createMemoryInboxRepository } from './inbox/repository.ts';

const config = loadConfig(notificationsEnv);
const logger = createLogger({ service: 'notifications', level: config.LOG_LEVEL });
const sidecar = createSidecar(config, logger);
const app = createApp({
  config,
  logger,
  sidecar,
  inbox: createMemoryInboxRepository(),
  deadLetters: createMemoryDeadLetterStore(),
});

runService({
  app,
  port: config.APP_PORT,
  hostname: config.APP_HOST,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});

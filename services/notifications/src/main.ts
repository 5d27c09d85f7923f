import {
  createLogger,
  createMemoryDeadLetterStore,
  createSidecar,
  loadConfig,
  runService,
} from '@shop/platform';
import { createTokenVerifier, jwksViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { notificationsEnv } from './config.ts';
import { createMemoryInboxRepository } from './inbox/repository.ts';

const config = loadConfig(notificationsEnv);
const logger = createLogger({ service: 'notifications', level: config.LOG_LEVEL });
const sidecar = createSidecar(config, logger);
const verifier = createTokenVerifier({
  fetchJwks: jwksViaDapr(sidecar.invoke, config.JWKS_APP_ID),
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
  logger,
});
const app = createApp({
  config,
  logger,
  sidecar,
  verifier,
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

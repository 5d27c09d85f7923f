import { createMemoryDeadLetterStore, runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { notificationsEnv, serviceName } from './config.ts';
import { createMemoryInboxRepository } from './inbox/repository.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, notificationsEnv);
const app = createApp({
  config,
  logger,
  sidecar,
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  inbox: createMemoryInboxRepository(),
  deadLetters: createMemoryDeadLetterStore(),
});

runService({ app, config, logger, lifecycle });

import {
  createEventConsumer,
  createServiceApp,
  type DeadLetterStore,
  type Logger,
  type Sidecar,
} from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { NotificationsConfig } from './config.ts';
import { notificationsEvents } from './events.ts';
import type { InboxRepository } from './inbox/repository.ts';
import { inboxRoutes } from './inbox/routes.ts';

export type NotificationsDeps = {
  config: Pick<NotificationsConfig, 'APP_API_TOKEN'>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'ready'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  inbox: InboxRepository;
  deadLetters: DeadLetterStore;
};

export function createApp(deps: NotificationsDeps) {
  const app = createServiceApp({
    service: 'notifications',
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    readiness: { sidecar: deps.sidecar.ready },
  });
  app.route(
    '/',
    createEventConsumer({
      appId: 'notifications',
      logger: deps.logger,
      deadLetters: deps.deadLetters,
      definition: notificationsEvents(deps),
    }),
  );
  app.use('/api/v1/notifications', authenticate(deps.verifier));
  app.use('/api/v1/notifications/*', authenticate(deps.verifier));
  app.route('/api/v1/notifications', inboxRoutes(deps));
  return app;
}

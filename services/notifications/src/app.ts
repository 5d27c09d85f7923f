import { createServiceApp, type DeadLetterStore, type Logger, type Sidecar } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import { type NotificationsConfig, serviceName } from './config.ts';
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
    service: serviceName,
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    // Clients come through the gateway, which checks paths and tokens first.
    publicApiCallers: ['gateway'],
    readiness: { sidecar: deps.sidecar.ready },
  });
  app.consumeEvents({ definition: notificationsEvents(deps), deadLetters: deps.deadLetters });
  // Also matches /api/v1/notifications itself; a second use() for it would verify twice.
  app.use('/api/v1/notifications/*', authenticate(deps.verifier));
  app.route('/api/v1/notifications', inboxRoutes(deps));
  return app;
}

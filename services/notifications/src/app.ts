import {
  createEventConsumer,
  createServiceApp,
  type DeadLetterStore,
  type Logger,
  type Sidecar,
} from '@shop/platform';
import type { NotificationsConfig } from './config.ts';
import { inboxEventHandlers } from './inbox/events.ts';
import type { InboxRepository } from './inbox/repository.ts';
import { internalInboxRoutes } from './inbox/routes.ts';

export type NotificationsDeps = {
  config: Pick<NotificationsConfig, 'APP_API_TOKEN'>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'ready'>;
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
      logger: deps.logger,
      deadLetters: deps.deadLetters,
      handlers: inboxEventHandlers(deps),
    }),
  );
  app.route('/internal', internalInboxRoutes(deps));
  return app;
}

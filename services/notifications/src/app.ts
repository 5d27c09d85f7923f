import { createServiceAppBehindGateway, type Logger } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import { type NotificationsConfig, serviceName } from './config.ts';
import type { NotificationsDb } from './database.ts';
import { mongoDeadLetterStore } from './dead-letters.ts';
import { notificationsEvents } from './events.ts';
import type { NotificationSinks } from './inbox/notification.ts';
import { inboxRoutes } from './inbox/routes.ts';
import { registerNotificationsMetrics } from './metrics.ts';
import { preferencesRoutes } from './preferences/routes.ts';
import { broadcastRoutes } from './stream/broadcast.ts';
import { type StreamRouteDeps, streamRoutes } from './stream/routes.ts';
import type { WishlistAudience } from './wishlist-alerts/audience.ts';

export type NotificationsDeps = NotificationSinks & {
  config: Pick<NotificationsConfig, 'APP_API_TOKEN' | 'PUBLIC_URL'>;
  logger: Logger;
  db: NotificationsDb;
  verifier: Pick<TokenVerifier, 'verify'>;
  /** Who has a product on their wishlist (the catalog, through Dapr). */
  audience: WishlistAudience;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
  /** The live stream (src/stream): this replica's hub, its limits and the heartbeat interval. */
  streams: Omit<StreamRouteDeps, 'logger'>;
};

export function createApp(deps: NotificationsDeps) {
  const app = createServiceAppBehindGateway(serviceName, deps);
  registerNotificationsMetrics({
    registry: app.metricsRegistry,
    hub: deps.streams.hub,
    email: deps.email,
    logger: deps.logger,
  });
  // In the service's own database, so they survive a restart and every replica sees them.
  app.consumeEvents({
    definition: notificationsEvents({ ...deps, publicUrl: deps.config.PUBLIC_URL }),
    deadLetters: mongoDeadLetterStore(deps.db),
  });
  // Also matches /api/v1/notifications itself; a second use() for it would verify twice.
  app.use('/api/v1/notifications/*', authenticate(deps.verifier));
  app.route('/api/v1/notifications/preferences', preferencesRoutes(deps));
  app.route('/api/v1/notifications/stream', streamRoutes({ ...deps.streams, logger: deps.logger }));
  // Other replicas' new notifications, for this replica's streams (a subscription of its own).
  app.route('/', broadcastRoutes({ hub: deps.streams.hub, logger: deps.logger }));
  app.route('/api/v1/notifications', inboxRoutes(deps));
  return app;
}

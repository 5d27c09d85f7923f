import {
  type CatalogClient,
  createServiceAppBehindGateway,
  type DeadLetterStore,
  type Logger,
} from '@shop/platform';
import { authenticate, requireRole, type TokenVerifier } from '@shop/platform/auth';
import { type OutboxRelay, registerOutboxMetrics } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { type OrdersConfig, serviceName } from './config.ts';
import { ordersEvents } from './events.ts';
import { expiryRoutes } from './expiry/routes.ts';
import { orderMetrics } from './orders/metrics.ts';
import { adminOrderRoutes, orderRoutes } from './orders/routes.ts';
import type { OrdersTables } from './tables.ts';

export type OrdersAppDeps = {
  config: Pick<
    OrdersConfig,
    'APP_API_TOKEN' | 'SHOP_CURRENCY' | 'ORDER_TTL_SECONDS' | 'REQUIRE_VERIFIED_EMAIL'
  >;
  logger: Logger;
  db: Kysely<OrdersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  catalog: CatalogClient;
  deadLetters: DeadLetterStore;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: OrdersAppDeps) {
  const { config, logger, db, outbox } = deps;
  // The cart places an order for its user, with their token and Idempotency-Key.
  const app = createServiceAppBehindGateway(serviceName, deps, {
    publicRouteCallers: { 'POST /api/v1/orders': ['cart'] },
  });
  registerOutboxMetrics({ registry: app.metricsRegistry, db, logger });
  const metrics = orderMetrics(app.metricsRegistry);
  app.consumeEvents({
    definition: ordersEvents({ db, outbox, logger, metrics }),
    deadLetters: deps.deadLetters,
  });
  app.route(
    '/',
    expiryRoutes({ db, outbox, logger, metrics, orderTtlSeconds: config.ORDER_TTL_SECONDS }),
  );
  // Each also matches its prefix itself; a second use() for it would verify twice.
  app.use('/api/v1/orders/*', authenticate(deps.verifier));
  app.use('/api/v1/admin/orders/*', authenticate(deps.verifier), requireRole('admin'));
  app.route(
    '/api/v1/orders',
    orderRoutes({
      db,
      outbox,
      logger,
      metrics,
      catalog: deps.catalog,
      currency: config.SHOP_CURRENCY,
      requireVerifiedEmail: config.REQUIRE_VERIFIED_EMAIL,
    }),
  );
  app.route('/api/v1/admin/orders', adminOrderRoutes({ db }));
  return app;
}

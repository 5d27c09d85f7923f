import { createServiceAppBehindGateway, type DeadLetterStore, type Logger } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import { type OutboxRelay, registerOutboxMetrics } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { categoryRoutes } from './categories/routes.ts';
import { type CatalogConfig, serviceName } from './config.ts';
import { catalogEvents } from './events.ts';
import { createProductCache, type StateStore } from './products/cache.ts';
import { internalProductRoutes, productsRoutes } from './products/routes.ts';
import type { CatalogTables } from './tables.ts';
import { internalWishlistRoutes, wishlistRoutes } from './wishlist/routes.ts';

export type CatalogDeps = {
  config: Pick<
    CatalogConfig,
    | 'APP_API_TOKEN'
    | 'SHOP_CURRENCY'
    | 'STATE_STORE_NAME'
    | 'PRODUCT_CACHE_TTL_SECONDS'
    | 'STATE_STORE_TIMEOUT_MS'
  >;
  logger: Logger;
  db: Kysely<CatalogTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  /** Where single-product reads are cached: the sidecar's state API. */
  stateStore: StateStore;
  verifier: Pick<TokenVerifier, 'verify'>;
  deadLetters: DeadLetterStore;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: CatalogDeps) {
  const { config, logger } = deps;
  const app = createServiceAppBehindGateway(serviceName, deps);
  registerOutboxMetrics({ registry: app.metricsRegistry, db: deps.db, logger });
  const cache = createProductCache({
    store: deps.stateStore,
    storeName: config.STATE_STORE_NAME,
    ttlSeconds: config.PRODUCT_CACHE_TTL_SECONDS,
    timeoutMs: config.STATE_STORE_TIMEOUT_MS,
    logger,
    registry: app.metricsRegistry,
  });
  const products = { ...deps, cache };
  app.consumeEvents({ definition: catalogEvents(products), deadLetters: deps.deadLetters });
  app.route('/internal', internalProductRoutes(products));
  app.route('/internal', internalWishlistRoutes(deps));
  // Reading products needs no token; the admin routes authenticate themselves.
  app.route('/api/v1/products', productsRoutes(products));
  app.route('/api/v1/categories', categoryRoutes(deps));
  // Also matches /api/v1/wishlist itself; a second use() for it would verify twice.
  app.use('/api/v1/wishlist/*', authenticate(deps.verifier));
  app.route('/api/v1/wishlist', wishlistRoutes(deps));
  return app;
}

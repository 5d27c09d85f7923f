import {
  type CatalogClient,
  createServiceAppBehindGateway,
  type DeadLetterStore,
  type Logger,
} from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { OrdersClient } from './cart/orders.ts';
import type { CartStore } from './cart/repository.ts';
import { cartRoutes } from './cart/routes.ts';
import { type CartConfig, serviceName } from './config.ts';
import { cartEvents } from './events.ts';

export type CartAppDeps = {
  config: Pick<CartConfig, 'APP_API_TOKEN' | 'SHOP_CURRENCY'>;
  logger: Logger;
  store: CartStore;
  catalog: CatalogClient;
  orders: OrdersClient;
  verifier: Pick<TokenVerifier, 'verify'>;
  deadLetters: DeadLetterStore;
  readiness: { sidecar: () => Promise<unknown> };
};

export function createApp(deps: CartAppDeps) {
  const { config, store, catalog, orders } = deps;
  const app = createServiceAppBehindGateway(serviceName, deps);
  app.consumeEvents({ definition: cartEvents({ store }), deadLetters: deps.deadLetters });
  // Also matches /api/v1/cart itself; a second use() for it would verify twice.
  app.use('/api/v1/cart/*', authenticate(deps.verifier));
  app.route('/api/v1/cart', cartRoutes({ store, catalog, orders, currency: config.SHOP_CURRENCY }));
  return app;
}

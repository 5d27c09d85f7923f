import { createServiceAppBehindGateway, type Logger } from '@shop/platform';
import { authenticate, requireRole, type TokenVerifier } from '@shop/platform/auth';
import { type OutboxRelay, registerOutboxMetrics, sqlDeadLetterStore } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { type InventoryConfig, serviceName } from './config.ts';
import { inventoryEvents } from './events.ts';
import { reservationMetrics } from './reservations/metrics.ts';
import { stockRoutes } from './stock/routes.ts';
import type { InventoryTables } from './tables.ts';

export type InventoryDeps = {
  config: Pick<InventoryConfig, 'APP_API_TOKEN'>;
  logger: Logger;
  db: Kysely<InventoryTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: InventoryDeps) {
  const app = createServiceAppBehindGateway(serviceName, deps);
  registerOutboxMetrics({ registry: app.metricsRegistry, db: deps.db, logger: deps.logger });
  // In the service's own database, so they survive a restart and every replica sees them.
  app.consumeEvents({
    definition: inventoryEvents({ ...deps, metrics: reservationMetrics(app.metricsRegistry) }),
    deadLetters: sqlDeadLetterStore(deps.db),
  });
  // Stock levels are for admins only; customers see `available` on the catalog's product.
  app.use('/api/v1/products/:id/stock', authenticate(deps.verifier), requireRole('admin'));
  app.route('/api/v1/products', stockRoutes(deps));
  return app;
}

import { createServiceAppBehindGateway, type DeadLetterStore, type Logger } from '@shop/platform';
import { authenticate, requireRole, type TokenVerifier } from '@shop/platform/auth';
import { type OutboxRelay, registerOutboxMetrics } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { type PaymentsConfig, serviceName } from './config.ts';
import { paymentsEvents } from './events.ts';
import { paymentMetrics } from './payments/metrics.ts';
import { adminPaymentRoutes } from './payments/routes.ts';
import type { PaymentProvider } from './providers/provider.ts';
import type { PaymentsTables } from './tables.ts';

export type PaymentsAppDeps = {
  config: Pick<PaymentsConfig, 'APP_API_TOKEN'>;
  logger: Logger;
  db: Kysely<PaymentsTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  provider: PaymentProvider;
  verifier: Pick<TokenVerifier, 'verify'>;
  deadLetters: DeadLetterStore;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: PaymentsAppDeps) {
  const app = createServiceAppBehindGateway(serviceName, deps);
  registerOutboxMetrics({ registry: app.metricsRegistry, db: deps.db, logger: deps.logger });
  const metrics = paymentMetrics(app.metricsRegistry);
  app.consumeEvents({
    definition: paymentsEvents({ ...deps, metrics }),
    deadLetters: deps.deadLetters,
  });
  // Also matches /api/v1/admin/payments itself; a second use() for it would verify twice.
  app.use('/api/v1/admin/payments/*', authenticate(deps.verifier), requireRole('admin'));
  app.route('/api/v1/admin/payments', adminPaymentRoutes(deps));
  return app;
}

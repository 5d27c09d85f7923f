import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createTestTokens,
  type DatabaseBackend,
  eventFixture,
  fakeCatalog,
  type ServiceAppHarness,
  useServiceApp,
} from '@shop/devkit/testing';
import type { Role } from '@shop/platform/auth';
import { sqlDeadLetterStore } from '@shop/platform/db';
import { createApp } from './app.ts';
import type { OrderView } from './orders/schemas.ts';
import type { OrdersTables } from './tables.ts';

export { fakeCatalog };

type OrdersHarness = ServiceAppHarness<OrdersTables, ReturnType<typeof createApp>>;

/** Places an order as `token` with a fresh Idempotency-Key, the given one, or (null) none. */
function orderPlacer(harness: OrdersHarness) {
  return (token: string, body: unknown, key: string | null = randomUUID()): Promise<Response> =>
    harness.call('POST', '/api/v1/orders', {
      body,
      token,
      ...(key === null ? {} : { headers: { 'idempotency-key': key } }),
    });
}

/** Resolves once a request has claimed `key` (it is then in flight, or done). */
function keyClaimedIn(harness: OrdersHarness) {
  return (key: string) =>
    pollUntil(
      () =>
        harness
          .get()
          .db.selectFrom('idempotency_keys')
          .select('key')
          .where('key', '=', key)
          .executeTakeFirst(),
      { what: `the Idempotency-Key ${key} to be claimed`, timeoutMs: 20_000 },
    );
}

/**
 * The orders app over a real database (PGlite or a private PostgreSQL), real token checks
 * and a real outbox whose publishes are recorded; the catalog is the in-process fake above.
 */
export function useOrdersApp(
  backend: DatabaseBackend,
  options: { orderTtlSeconds?: number; requireVerifiedEmail?: boolean } = {},
) {
  const catalog = fakeCatalog();
  let tokens: Awaited<ReturnType<typeof createTestTokens>> | undefined;
  const harness = useServiceApp<OrdersTables, ReturnType<typeof createApp>>({
    backend,
    migrations: new URL('../migrations', import.meta.url),
    async createApp({ db, outbox, logger, appApiToken }) {
      tokens = await createTestTokens();
      return createApp({
        config: {
          APP_API_TOKEN: appApiToken,
          SHOP_CURRENCY: 'USD',
          ORDER_TTL_SECONDS: options.orderTtlSeconds ?? 900,
          REQUIRE_VERIFIED_EMAIL: options.requireVerifiedEmail ?? false,
        },
        logger,
        db,
        outbox,
        verifier: tokens.verifier,
        catalog,
        deadLetters: sqlDeadLetterStore(db),
        readiness: { sidecar: async () => {}, database: async () => {} },
      });
    },
  });

  /** A fresh user's access token, so tests sharing the database never see each other's orders. */
  const newUser = async (role: Role = 'customer', claims: { emailVerified?: boolean } = {}) => {
    if (!tokens) throw new Error('the orders app is not open yet');
    const id = randomUUID();
    return { id, token: await tokens.issue(id, role, claims) };
  };
  const place = orderPlacer(harness);

  /** A product in the fake catalog and a pending order of `quantity` of it. */
  const placePending = async (token: string, quantity = 1): Promise<OrderView> => {
    const product = catalog.add({ price: 1250, name: 'Lamp' });
    const res = await place(token, {
      items: [{ productId: product.id, quantity }],
      paymentMethod: 'pm_card_visa',
    });
    if (res.status !== 202) throw new Error(`placing failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as OrderView;
  };

  const keyClaimed = keyClaimedIn(harness);
  return { ...harness, catalog, newUser, place, keyClaimed, placePending };
}

/** The saga's events about one order, as inventory and payments would publish them. */
export const sagaEvents = {
  stockReserved: (order: OrderView) =>
    eventFixture('stock.reserved', {
      orderId: order.id,
      items: order.items.map(({ productId, quantity }) => ({ productId, quantity })),
    }),
  stockRejected: (order: OrderView) =>
    eventFixture('stock.rejected', {
      orderId: order.id,
      shortages: order.items.map(({ productId, quantity }) => ({
        productId,
        requested: quantity,
        available: 0,
      })),
    }),
  paymentSucceeded: (order: OrderView) =>
    eventFixture('payment.succeeded', {
      orderId: order.id,
      amount: order.total,
      currency: order.currency,
    }),
  paymentFailed: (order: OrderView) =>
    eventFixture('payment.failed', { orderId: order.id, reason: 'card_declined' }),
  paymentRefunded: (order: OrderView) =>
    eventFixture('payment.refunded', {
      orderId: order.id,
      amount: order.total,
      currency: order.currency,
    }),
};

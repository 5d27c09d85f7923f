import { randomUUID } from 'node:crypto';
import {
  createTestTokens,
  type DatabaseBackend,
  eventFixture,
  type ServiceAppHarness,
  useServiceApp,
} from '@shop/devkit/testing';
import type { ShopEvent } from '@shop/platform';
import { createApp } from './app.ts';
import type { InventoryTables } from './tables.ts';

type InventoryHarness = ServiceAppHarness<InventoryTables, ReturnType<typeof createApp>>;

/** What tests read straight from the database: stock and ledger of a product, reservations. */
function inventoryReads(harness: InventoryHarness) {
  const stockOf = (productId: string) =>
    harness
      .get()
      .db.selectFrom('stock')
      .select(['available', 'reserved', 'sold', 'version'])
      .where('product_id', '=', productId)
      .executeTakeFirst();

  const movementsOf = (productId: string) =>
    harness
      .get()
      .db.selectFrom('stock_movements')
      .select([
        'reason',
        'actor',
        'order_id',
        'available_delta',
        'reserved_delta',
        'sold_delta',
        'version',
      ])
      .where('product_id', '=', productId)
      .orderBy('id')
      .execute();

  const reservationOf = async (orderId: string) =>
    (
      await harness
        .get()
        .db.selectFrom('reservations')
        .select('status')
        .where('order_id', '=', orderId)
        .executeTakeFirst()
    )?.status;
  return { stockOf, movementsOf, reservationOf };
}

/**
 * The inventory app over a real database (a private PostgreSQL or an in-memory PGlite),
 * with real token checks; only the broker is replaced, by a list the test can read.
 */
export function useInventoryApp(backend: DatabaseBackend) {
  const tokens = createTestTokens();
  const harness = useServiceApp<InventoryTables, ReturnType<typeof createApp>>({
    backend,
    migrations: new URL('../migrations', import.meta.url),
    async createApp({ db, outbox, logger, appApiToken }) {
      return createApp({
        config: { APP_API_TOKEN: appApiToken },
        logger,
        db,
        outbox,
        verifier: (await tokens).verifier,
        readiness: { sidecar: async () => {}, database: async () => {} },
      });
    },
  });

  /** Everything the outbox has published so far, once it has sent all it holds. */
  const publishedAfterDrain = async (): Promise<ShopEvent[]> => {
    await harness.get().outbox.drain();
    return harness.published;
  };

  return {
    ...harness,
    ...inventoryReads(harness),
    publishedAfterDrain,
    adminToken: async (userId = randomUUID()) => (await tokens).issue(userId, 'admin'),
    customerToken: async (userId = randomUUID()) => (await tokens).issue(userId, 'customer'),
  };
}

export function productCreated(productId: string, initialStock: number) {
  return eventFixture('product.created', {
    productId,
    sku: `SKU-${productId.slice(0, 8)}`,
    price: 1_000,
    initialStock,
  });
}

export function productDeleted(productId: string) {
  return eventFixture('product.deleted', { productId });
}

export function orderCreated(
  orderId: string,
  items: Array<{ productId: string; quantity: number }>,
) {
  return eventFixture('order.created', {
    orderId,
    userId: 'u-1',
    items: items.map((item) => ({ ...item, unitPrice: 1_000 })),
    total: items.reduce((sum, item) => sum + item.quantity * 1_000, 0),
  });
}

export function orderConfirmed(orderId: string) {
  return eventFixture('order.confirmed', { orderId, userId: 'u-1', total: 1_000 });
}

export function orderCancelled(orderId: string) {
  return eventFixture('order.cancelled', { orderId, userId: 'u-1', reason: 'customer_request' });
}

/**
 * Runs `task` over every item with at most `parallelism` in flight, as a broker's
 * concurrent deliveries would, and answers the results in item order.
 */
export async function inParallel<T, R>(
  items: readonly T[],
  parallelism: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: parallelism }, worker));
  return results;
}

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { inParallel, orderCreated, productCreated, useInventoryApp } from '../test-support.ts';

// On PostgreSQL only: PGlite is one connection, so it runs every transaction alone and
// proves nothing about locking. Deliveries go through the app's event route, as Dapr's
// concurrent deliveries would, many at once against a pool of connections.
describe('reservations under concurrent deliveries on postgres', () => {
  const inventory = useInventoryApp('postgres');
  const parallelism = 24;

  const ctx = { inventory, parallelism, ...concurrencyHelpers(inventory) };

  contendedStockCases(ctx);
  deadlockCases(ctx);
});

type InventoryApp = ReturnType<typeof useInventoryApp>;
type Ctx = { inventory: InventoryApp; parallelism: number } & ReturnType<typeof concurrencyHelpers>;

/** Products to race over, and what the ledger and the reservations say afterwards. */
function concurrencyHelpers(inventory: InventoryApp) {
  async function products(count: number, initialStock: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids) {
      expect(await inventory.deliver(productCreated(id, initialStock))).toBe('SUCCESS');
    }
    return ids;
  }

  /** Per product: the row, the ledger's sums, and the lowest `available` the ledger ever passed through. */
  async function audit(productIds: string[]) {
    const { rows } = await sql<{
      product_id: string;
      available: number;
      reserved: number;
      sold: number;
      initial_and_restocks: number;
      ledger_available: number;
      ledger_reserved: number;
      ledger_sold: number;
      lowest_available: number;
    }>`
      with running as (
        select product_id, reason, available_delta, reserved_delta, sold_delta,
          sum(available_delta) over (partition by product_id order by version) as available_after
        from stock_movements where product_id in (${sql.join(productIds)})
      )
      select s.product_id, s.available, s.reserved, s.sold,
        sum(r.available_delta) filter (where r.reason in ('initial', 'restock', 'adjustment'))::int as initial_and_restocks,
        sum(r.available_delta)::int as ledger_available,
        sum(r.reserved_delta)::int as ledger_reserved,
        sum(r.sold_delta)::int as ledger_sold,
        min(r.available_after)::int as lowest_available
      from stock s join running r using (product_id)
      group by s.product_id`.execute(inventory.get().db);
    return rows;
  }

  async function outcomes(orderIds: string[]) {
    const rows = await inventory
      .get()
      .db.selectFrom('reservations')
      .select(['status', sql<number>`count(*)::int`.as('orders')])
      .where('order_id', 'in', orderIds)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, row.orders]));
  }

  function expectConserved(rows: Awaited<ReturnType<typeof audit>>, initialStock: number) {
    for (const row of rows) {
      expect(row.initial_and_restocks).toBe(initialStock);
      expect(row.available + row.reserved + row.sold).toBe(initialStock);
      expect([row.ledger_available, row.ledger_reserved, row.ledger_sold]).toEqual([
        row.available,
        row.reserved,
        row.sold,
      ]);
      expect(row.lowest_available).toBeGreaterThanOrEqual(0);
    }
  }
  return { products, audit, outcomes, expectConserved };
}

function contendedStockCases({
  inventory,
  parallelism,
  products,
  audit,
  outcomes,
  expectConserved,
}: Ctx) {
  it.each([
    ['once', 1],
    ['twice, the copies concurrently', 2],
  ])(
    'reserves exactly 1,000 of 1,100 one-unit orders over 10 × 100 units, each delivered %s',
    async (_, copies) => {
      const productIds = await products(10, 100);
      const orders = Array.from({ length: 1_100 }, (_, i) =>
        orderCreated(randomUUID(), [{ productId: productIds[i % 10] as string, quantity: 1 }]),
      );
      // The copies of an event side by side, so they are in flight at the same moment.
      const deliveries = orders.flatMap((order) => Array.from({ length: copies }, () => order));
      const statuses = await inParallel(deliveries, parallelism, (event) =>
        inventory.deliver(event),
      );
      // Not one RETRY: no deadlock, no serialization failure, no CHECK violation.
      expect(new Set(statuses)).toEqual(new Set(['SUCCESS']));

      const orderIds = orders.map((o) => o.data.orderId);
      expect(await outcomes(orderIds)).toEqual({ reserved: 1_000, rejected: 100 });
      const rows = await audit(productIds);
      expect(rows).toHaveLength(10);
      for (const row of rows) expect(row).toMatchObject({ available: 0, reserved: 100, sold: 0 });
      expectConserved(rows, 100);

      const ids = new Set(orderIds);
      const published = (await inventory.publishedAfterDrain()).filter(
        (e) =>
          (e.type === 'stock.reserved' || e.type === 'stock.rejected') && ids.has(e.data.orderId),
      );
      expect(published.filter((e) => e.type === 'stock.reserved')).toHaveLength(1_000);
      expect(published.filter((e) => e.type === 'stock.rejected')).toHaveLength(100);
    },
  );
}

function deadlockCases({ inventory, parallelism, products, audit, expectConserved }: Ctx) {
  it('never deadlocks on multi-line orders that name the same products in different orders', async () => {
    const productIds = await products(4, 300);
    const [a, b, c, d] = productIds as [string, string, string, string];
    const lineOrders = [
      [a, b],
      [b, a],
      [c, b, a],
      [a, d, c],
      [d, c, b, a],
    ];
    const orders = Array.from({ length: 500 }, (_, i) =>
      orderCreated(
        randomUUID(),
        (lineOrders[i % lineOrders.length] as string[]).map((productId) => ({
          productId,
          quantity: 1,
        })),
      ),
    );
    const statuses = await inParallel(orders, parallelism, (event) => inventory.deliver(event));
    expect(new Set(statuses)).toEqual(new Set(['SUCCESS']));

    // Every order wants a unit of a, 500 in all for its 300, so 200 must be turned away whole.
    const reserved = new Set(
      (
        await inventory
          .get()
          .db.selectFrom('reservations')
          .select('order_id')
          .where('status', '=', 'reserved')
          .where(
            'order_id',
            'in',
            orders.map((o) => o.data.orderId),
          )
          .execute()
      ).map((row) => row.order_id),
    );
    const rows = await audit(productIds);
    expectConserved(rows, 300);
    for (const row of rows) {
      const demanded = orders
        .filter((o) => reserved.has(o.data.orderId))
        .flatMap((o) => o.data.items)
        .filter((item) => item.productId === row.product_id).length;
      expect(row.reserved).toBe(demanded);
    }
    expect(reserved.size).toBe(300);
    expect(rows.find((row) => row.product_id === a)?.available).toBe(0);
  });
}

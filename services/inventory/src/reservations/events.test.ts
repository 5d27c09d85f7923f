import { randomUUID } from 'node:crypto';
import { databaseBackends, seriesValue } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  orderCancelled,
  orderConfirmed,
  orderCreated,
  productCreated,
  useInventoryApp,
} from '../test-support.ts';

describe.each(databaseBackends)('reservations on %s', (backend) => {
  const inventory = useInventoryApp(backend);

  const ctx = { inventory, ...reservationHelpers(inventory) };

  reserveCases(ctx);
  shortAndRedeliveredCases(ctx);
  commitAndReleaseCases(ctx);
  lateAndRejectedCases(ctx);
  metricsCases(ctx);

  describe('after all of the above', () => {
    beforeAll(async () => inventory.get().outbox.drain());

    it('every stock row with movements is the sum of its ledger, and stock is conserved (invariant 1)', async () => {
      const { rows } = await sql<{ product_id: string; mismatch: boolean; conserved: boolean }>`
        select s.product_id,
          (s.available, s.reserved, s.sold, s.version) is distinct from
            (sum(m.available_delta)::int, sum(m.reserved_delta)::int, sum(m.sold_delta)::int, max(m.version)) as mismatch,
          coalesce(sum(m.available_delta) filter (where m.reason in ('initial', 'restock', 'adjustment')), 0)
            = s.available + s.reserved + s.sold as conserved
        from stock s join stock_movements m using (product_id)
        group by s.product_id`.execute(inventory.get().db);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((row) => row.mismatch || !row.conserved)).toEqual([]);
    });
  });
});

type InventoryApp = ReturnType<typeof useInventoryApp>;
type Ctx = { inventory: InventoryApp } & ReturnType<typeof reservationHelpers>;

/** New products, and the reservation events published about one order. */
function reservationHelpers(inventory: InventoryApp) {
  /** Events about one order that the outbox has published, oldest first. */
  const publishedFor = async (orderId: string) =>
    (await inventory.publishedAfterDrain()).filter(
      (e) =>
        (e.type === 'stock.reserved' || e.type === 'stock.rejected') && e.data.orderId === orderId,
    );
  const newProduct = async (initialStock: number) => {
    const productId = randomUUID();
    expect(await inventory.deliver(productCreated(productId, initialStock))).toBe('SUCCESS');
    return productId;
  };
  return { publishedFor, newProduct };
}

function reserveCases({ inventory, publishedFor, newProduct }: Ctx) {
  it('reserves every line of an order, summing repeated products, and says so', async () => {
    const [a, b] = [await newProduct(5), await newProduct(3)];
    const orderId = randomUUID();
    const created = orderCreated(orderId, [
      { productId: a, quantity: 1 },
      { productId: b, quantity: 3 },
      { productId: a, quantity: 1 },
    ]);
    expect(await inventory.deliver(created)).toBe('SUCCESS');

    expect(await inventory.stockOf(a)).toEqual({ available: 3, reserved: 2, sold: 0, version: 2 });
    expect(await inventory.stockOf(b)).toEqual({ available: 0, reserved: 3, sold: 0, version: 2 });
    expect(await inventory.reservationOf(orderId)).toBe('reserved');
    const [reserved, ...more] = await publishedFor(orderId);
    expect(more).toEqual([]);
    expect(reserved?.type).toBe('stock.reserved');
    expect(reserved?.data).toMatchObject({
      items: expect.arrayContaining([
        { productId: a, quantity: 2 },
        { productId: b, quantity: 3 },
      ]),
    });
    expect((await inventory.movementsOf(a)).at(-1)).toEqual({
      reason: 'reserve',
      actor: created.id,
      order_id: orderId,
      available_delta: -2,
      reserved_delta: 2,
      sold_delta: 0,
      version: 2,
    });
    const changed = (await inventory.publishedAfterDrain()).filter(
      (e) => e.type === 'stock.changed' && e.data.productId === b,
    );
    expect(changed.at(-1)?.data).toMatchObject({ available: 0, reserved: 3, version: 2 });
  });

  it('matches a product id however the order spells it', async () => {
    const productId = await newProduct(3);
    const orderId = randomUUID();
    await inventory.deliver(
      orderCreated(orderId, [
        { productId: productId.toUpperCase(), quantity: 1 },
        { productId, quantity: 1 },
      ]),
    );
    expect(await inventory.stockOf(productId)).toMatchObject({ available: 1, reserved: 2 });
  });
}

function shortAndRedeliveredCases({ inventory, publishedFor, newProduct }: Ctx) {
  it('reserves nothing when one line is short, and names each short line', async () => {
    const [plenty, scarce, gone] = [await newProduct(10), await newProduct(1), randomUUID()];
    const orderId = randomUUID();
    await inventory.deliver(
      orderCreated(orderId, [
        { productId: plenty, quantity: 2 },
        { productId: scarce, quantity: 2 },
        { productId: gone, quantity: 1 },
      ]),
    );
    expect(await inventory.stockOf(plenty)).toEqual({
      available: 10,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    expect(await inventory.stockOf(scarce)).toEqual({
      available: 1,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    expect(await inventory.movementsOf(plenty)).toHaveLength(1);
    expect(await inventory.reservationOf(orderId)).toBe('rejected');
    const [rejected, ...more] = await publishedFor(orderId);
    expect(more).toEqual([]);
    expect(rejected?.type).toBe('stock.rejected');
    expect(rejected?.data).toMatchObject({
      shortages: expect.arrayContaining([
        { productId: scarce, requested: 2, available: 1 },
        // A product inventory keeps no stock for has nothing available.
        { productId: gone, requested: 1, available: 0 },
      ]),
    });
    expect(rejected?.type === 'stock.rejected' && rejected.data.shortages).toHaveLength(2);
  });

  it('reserves once however often order.created is delivered, or under another event id', async () => {
    const productId = await newProduct(10);
    const orderId = randomUUID();
    const created = orderCreated(orderId, [{ productId, quantity: 4 }]);
    const statuses = await Promise.all(
      [created, created, created].map((e) => inventory.deliver(e)),
    );
    expect(statuses).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 4 }]))).toBe(
      'SUCCESS',
    );
    expect(await inventory.stockOf(productId)).toMatchObject({
      available: 6,
      reserved: 4,
      version: 2,
    });
    expect(await publishedFor(orderId)).toHaveLength(1);
  });
}

function commitAndReleaseCases({ inventory, newProduct }: Ctx) {
  it('commits a reservation once: reserved units become sold', async () => {
    const productId = await newProduct(10);
    const orderId = randomUUID();
    await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 3 }]));
    const confirmed = orderConfirmed(orderId);
    expect(await inventory.deliver(confirmed)).toBe('SUCCESS');
    expect(await inventory.deliver(confirmed)).toBe('SUCCESS');
    expect(await inventory.deliver(orderConfirmed(orderId))).toBe('SUCCESS');
    expect(await inventory.stockOf(productId)).toEqual({
      available: 7,
      reserved: 0,
      sold: 3,
      version: 3,
    });
    expect(await inventory.reservationOf(orderId)).toBe('committed');
    expect((await inventory.movementsOf(productId)).map((m) => m.reason)).toEqual([
      'initial',
      'reserve',
      'commit',
    ]);
    // Available did not move at the commit: its consumers hear nothing new.
    const levels = (await inventory.publishedAfterDrain())
      .filter((e) => e.type === 'stock.changed' && e.data.productId === productId)
      .map((e) => e.type === 'stock.changed' && [e.data.version, e.data.available]);
    expect(levels).toEqual([
      [1, 10],
      [2, 7],
    ]);
  });

  it('releases a reservation once: reserved units are available again, and a later confirmation changes nothing', async () => {
    const productId = await newProduct(10);
    const orderId = randomUUID();
    await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 3 }]));
    const cancelled = orderCancelled(orderId);
    expect(await inventory.deliver(cancelled)).toBe('SUCCESS');
    expect(await inventory.deliver(cancelled)).toBe('SUCCESS');
    expect(await inventory.deliver(orderCancelled(orderId))).toBe('SUCCESS');
    expect(await inventory.deliver(orderConfirmed(orderId))).toBe('SUCCESS');
    expect(await inventory.stockOf(productId)).toEqual({
      available: 10,
      reserved: 0,
      sold: 0,
      version: 3,
    });
    expect(await inventory.reservationOf(orderId)).toBe('released');
  });

  it('gives a cancelled confirmed order’s sold units back, once', async () => {
    const productId = await newProduct(10);
    const orderId = randomUUID();
    await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 3 }]));
    await inventory.deliver(orderConfirmed(orderId));
    await inventory.deliver(orderCancelled(orderId));
    await inventory.deliver(orderCancelled(orderId));
    expect(await inventory.stockOf(productId)).toEqual({
      available: 10,
      reserved: 0,
      sold: 0,
      version: 4,
    });
    expect((await inventory.movementsOf(productId)).at(-1)).toMatchObject({
      reason: 'release',
      available_delta: 3,
      sold_delta: -3,
    });
  });
}

function lateAndRejectedCases({ inventory, publishedFor, newProduct }: Ctx) {
  it('leaves a tombstone for a cancellation that arrives before its order: the late order reserves and publishes nothing', async () => {
    const productId = await newProduct(10);
    const orderId = randomUUID();
    expect(await inventory.deliver(orderCancelled(orderId))).toBe('SUCCESS');
    expect(await inventory.reservationOf(orderId)).toBe('released');
    expect(await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 2 }]))).toBe(
      'SUCCESS',
    );
    expect(await inventory.deliver(orderConfirmed(orderId))).toBe('SUCCESS');
    expect(await inventory.stockOf(productId)).toEqual({
      available: 10,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    expect(await publishedFor(orderId)).toEqual([]);
  });

  it('changes nothing when a rejected order is confirmed or cancelled', async () => {
    const productId = await newProduct(1);
    const orderId = randomUUID();
    await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 2 }]));
    await inventory.deliver(orderConfirmed(orderId));
    await inventory.deliver(orderCancelled(orderId));
    expect(await inventory.reservationOf(orderId)).toBe('rejected');
    expect(await inventory.stockOf(productId)).toEqual({
      available: 1,
      reserved: 0,
      sold: 0,
      version: 1,
    });
  });
}

function metricsCases({ inventory, newProduct }: Ctx) {
  it('counts each order once as inventory_reservations_total{outcome}: reserved or rejected', async () => {
    const count = async (outcome: string) =>
      (await seriesValue(inventory.get().app, 'inventory_reservations_total', { outcome })) ?? 0;
    const productId = await newProduct(3);
    const before = { reserved: await count('reserved'), rejected: await count('rejected') };
    const fits = orderCreated(randomUUID(), [{ productId, quantity: 2 }]);
    const tooMany = orderCreated(randomUUID(), [{ productId, quantity: 2 }]);
    for (const event of [fits, fits, tooMany, tooMany]) {
      expect(await inventory.deliver(event)).toBe('SUCCESS');
    }
    expect((await count('reserved')) - before.reserved).toBe(1);
    expect((await count('rejected')) - before.rejected).toBe(1);
  });
}

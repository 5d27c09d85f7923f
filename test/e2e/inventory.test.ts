import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import { type EventProbe, eventFixture, type TestShop } from '@shop/devkit/testing';
import type { ShopEvent } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from './support/customers.ts';
import { startProbedShop } from './support/probed-shop.ts';

// Inventory beside its real sidecar, fed through the real broker. Catalog and orders are
// played by this test: it publishes their events through inventory's sidecar, and a
// sidecar-only probe app subscribed to inventory's topics records what inventory publishes.
const admin = { email: 'stock-admin@example.com', password: 'correct horse battery staple' };
let shop: TestShop;
let probe: EventProbe;
let received: ShopEvent[];
let adminToken: string;
let customerToken: string;

beforeAll(async () => {
  ({ shop, probe, received, adminToken } = await startProbedShop(
    'inventory',
    ['stock.reserved', 'stock.rejected', 'stock.changed'],
    admin,
  ));
  customerToken = await registerCustomer(shop, {
    email: 'shopper@example.com',
    password: 'correct horse battery',
    name: 'Shopper',
  });
});

afterAll(async () => {
  await shop?.stop();
  probe?.stop();
});

const stockPath = (productId: string) => `/api/v1/products/${productId}/stock`;
type StockLevel = {
  productId: string;
  available: number;
  reserved: number;
  sold: number;
  version: number;
};

const getStock = (productId: string, token = adminToken) =>
  shop.gateway(stockPath(productId), { headers: { authorization: `Bearer ${token}` } });

/** The stock once inventory has it and `ready` holds for it (events arrive in their own time). */
function stockWhen(productId: string, ready: (level: StockLevel) => boolean): Promise<StockLevel> {
  return pollUntil(
    async () => {
      const res = await getStock(productId);
      if (res.status !== 200) return undefined;
      const level = (await res.json()) as StockLevel;
      return ready(level) ? level : undefined;
    },
    { timeoutMs: 45_000, what: `the stock of ${productId}` },
  );
}

async function createProduct(initialStock: number): Promise<string> {
  const productId = randomUUID();
  const data = {
    productId,
    sku: `E2E-${productId.slice(0, 8)}`,
    name: 'E2E product',
    category: 'tests',
    price: 1_500,
    initialStock,
  };
  await shop.publish(eventFixture('product.created', data), 'inventory');
  await stockWhen(productId, () => true);
  return productId;
}

function orderCreated(orderId: string, items: Array<{ productId: string; quantity: number }>) {
  const data = {
    orderId,
    userId: 'e2e-user',
    items: items.map((item) => ({ ...item, unitPrice: 1_500 })),
    total: items.reduce((sum, item) => sum + item.quantity * 1_500, 0),
    paymentMethod: 'pm_card_visa',
  };
  return eventFixture('order.created', data);
}

/** Inventory's answers to orders as the probe received them: reserved or rejected, per order id. */
function decisions(): Map<string, 'stock.reserved' | 'stock.rejected'> {
  const answers = new Map<string, 'stock.reserved' | 'stock.rejected'>();
  for (const e of received) {
    if (e.type === 'stock.reserved' || e.type === 'stock.rejected')
      answers.set(e.data.orderId, e.type);
  }
  return answers;
}

const decisionFor = (orderId: string) =>
  pollUntil(async () => decisions().get(orderId), {
    timeoutMs: 45_000,
    what: `inventory's answer to order ${orderId}`,
  });

const rejectionFor = (orderId: string) =>
  received.find((e) => e.type === 'stock.rejected' && e.data.orderId === orderId);

describe('inventory through the gateway, real sidecars and the broker', () => {
  it('opens stock from product.created and lets an admin read and set it, with If-Match', async () => {
    const productId = await createProduct(10);
    const read = await getStock(productId);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await read.json()).toEqual({
      productId,
      available: 10,
      reserved: 0,
      sold: 0,
      version: 1,
    });

    const put = (available: number, ifMatch: string, token = adminToken) =>
      shop.gateway(stockPath(productId), {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'if-match': ifMatch,
        },
        body: JSON.stringify({ available }),
      });
    const restocked = await put(25, '"1"');
    expect(restocked.status).toBe(200);
    expect(restocked.headers.get('etag')).toBe('"2"');
    expect((await put(5, '"1"')).status).toBe(412);
    expect((await put(5, '"2"', customerToken)).status).toBe(403);
    expect((await getStock(productId, customerToken)).status).toBe(403);
    expect((await shop.gateway(stockPath(productId))).status).toBe(401);
    expect(await (await getStock(productId)).json()).toMatchObject({ available: 25, version: 2 });

    const versions = await pollUntil(
      async () => {
        const seen = received
          .filter((e) => e.type === 'stock.changed' && e.data.productId === productId)
          .map((e) => e.type === 'stock.changed' && [e.data.version, e.data.available]);
        return seen.length === 2 ? seen : undefined;
      },
      { what: `both stock.changed events for ${productId}`, timeoutMs: 20_000 },
    );
    expect(versions).toEqual(
      expect.arrayContaining([
        [1, 10],
        [2, 25],
      ]),
    );
  });

  it('reserves all lines or none, then commits and releases as orders confirms and cancels', async () => {
    const [a, b] = [await createProduct(5), await createProduct(2)];
    const [kept, short, dropped] = [randomUUID(), randomUUID(), randomUUID()];

    await shop.publish(
      orderCreated(kept, [
        { productId: a, quantity: 2 },
        { productId: b, quantity: 1 },
      ]),
      'inventory',
    );
    expect(await decisionFor(kept)).toBe('stock.reserved');
    await shop.publish(
      orderCreated(short, [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 5 },
      ]),
      'inventory',
    );
    expect(await decisionFor(short)).toBe('stock.rejected');
    expect(rejectionFor(short)?.data).toMatchObject({
      shortages: [{ productId: b, requested: 5, available: 1 }],
    });
    await shop.publish(orderCreated(dropped, [{ productId: a, quantity: 1 }]), 'inventory');
    expect(await decisionFor(dropped)).toBe('stock.reserved');

    const confirmed = {
      orderId: kept,
      userId: 'e2e-user',
      total: 4_500,
    };
    await shop.publish(eventFixture('order.confirmed', confirmed), 'inventory');
    const cancelled = {
      orderId: dropped,
      userId: 'e2e-user',
      reason: 'payment_declined' as const,
    };
    await shop.publish(eventFixture('order.cancelled', cancelled), 'inventory');

    const levelA = await stockWhen(a, (level) => level.sold === 2 && level.reserved === 0);
    expect(levelA).toMatchObject({ available: 3, reserved: 0, sold: 2 });
    expect(await stockWhen(b, (level) => level.sold === 1)).toMatchObject({
      available: 1,
      reserved: 0,
      sold: 1,
    });
  });

  it('reserves exactly 200 of 220 concurrent orders over 2 products x 100 through the broker', {
    timeout: 120_000,
  }, async () => {
    const products = [await createProduct(100), await createProduct(100)];
    const orders = Array.from({ length: 220 }, (_, i) =>
      orderCreated(randomUUID(), [{ productId: products[i % 2] as string, quantity: 1 }]),
    );
    // Published all at once: the sidecar delivers them to inventory concurrently.
    await Promise.all(orders.map((order) => shop.publish(order, 'inventory')));

    const ids = orders.map((order) => order.data.orderId);
    const answers = await pollUntil(
      async () => {
        const all = decisions();
        const ours = ids.flatMap((id) => all.get(id) ?? []);
        return ours.length === ids.length ? ours : undefined;
      },
      { timeoutMs: 90_000, what: 'an answer to each of the 220 orders' },
    );
    expect(answers.filter((type) => type === 'stock.reserved')).toHaveLength(200);
    expect(answers.filter((type) => type === 'stock.rejected')).toHaveLength(20);
    // One answer per order: no order was both reserved and rejected, or answered twice.
    const orderIds = new Set(ids);
    const answerEvents = received.filter(
      (e) =>
        (e.type === 'stock.reserved' || e.type === 'stock.rejected') &&
        orderIds.has(e.data.orderId),
    );
    expect(new Set(answerEvents.map((e) => e.id)).size).toBe(220);

    for (const productId of products) {
      const level = await stockWhen(productId, () => true);
      expect(level).toMatchObject({ available: 0, reserved: 100, sold: 0 });
      // Invariant 1: initial + restocks (none here) = available + reserved + sold.
      expect(level.available + level.reserved + level.sold).toBe(100);
    }
  });
});

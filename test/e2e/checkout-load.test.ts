import { randomUUID } from 'node:crypto';
import {
  adminOrders,
  checkInvariants,
  createProductWithStock,
  type OrderView,
  placeOrder,
  runPool,
  startTestShop,
  stockOf,
  type TestShop,
  waitForTerminal,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomers } from './support/customers.ts';

// The checkout saga under load through every real service and sidecar: 1,100 one-unit
// checkouts over 10 products x 100 units, 110 POSTs in flight at a time, must sell exactly
// the stock there is, no unit more, and settle every order.

let shop: TestShop;
let adminToken: string;
const customers: string[] = [];
const admin = { email: 'load-admin@example.com', password: 'admin password 0123' };
const customerCount = 10;

beforeAll(async () => {
  shop = await startTestShop({
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
  customers.push(...(await registerCustomers(shop, 'load-shopper', customerCount)));
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

describe('checkout under load', () => {
  it('sells 10 x 100 units to 1,100 concurrent one-unit checkouts: 1,000 confirmed, 100 out_of_stock, none oversold', async ({
    annotate,
  }) => {
    const products = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        createProductWithStock(shop, adminToken, { sku: `LOAD-${i}`, stock: 100 }),
      ),
    );
    const started = Date.now();
    const { results: placements, maxInFlight } = await runPool(1_100, 110, (i) =>
      placeOrder(
        shop,
        customers[i % customerCount] as string,
        {
          items: [{ productId: (products[i % products.length] as { id: string }).id, quantity: 1 }],
          paymentMethod: 'pm_card_visa',
        },
        // A refusal under load is retried with the same key, so it can never double an order.
        { retryForMs: 60_000 },
      ),
    );
    const placedMs = Date.now() - started;
    expect(maxInFlight).toBeGreaterThanOrEqual(100);
    const ids = placements.map((p) => p.order.id);
    expect(new Set(ids).size).toBe(1_100);

    const settled = await waitForTerminal(shop, adminToken, ids, { timeoutMs: 120_000 });
    const settledMs = Date.now() - started;
    const outcomes = new Map<string, number>();
    for (const order of settled.values()) {
      const outcome =
        order.status === 'cancelled' ? `cancelled:${order.cancelReason}` : order.status;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const retried = placements.filter((p) => p.attempts > 1);
    await annotate(
      `load: 1,100 placed in ${placedMs} ms (max ${maxInFlight} in flight, ${retried.length} retried: ${JSON.stringify(retried.flatMap((p) => p.refusals))}), all settled after ${settledMs} ms`,
    );
    expect(Object.fromEntries(outcomes)).toEqual({
      confirmed: 1_000,
      'cancelled:out_of_stock': 100,
    });

    // Per product: 100 confirmed, and inventory's count agrees, with nothing left reserved.
    for (const product of products) {
      const confirmed = [...settled.values()].filter(
        (o: OrderView) => o.status === 'confirmed' && o.items[0]?.productId === product.id,
      );
      expect(confirmed).toHaveLength(100);
    }
    for (const product of products) {
      await expect
        .poll(() => stockOf(shop, adminToken, product.id), { timeout: 30_000, interval: 250 })
        .toMatchObject({ available: 0, reserved: 0, sold: 100 });
    }

    // One order per key, and none that no client asked for.
    const all = await adminOrders(shop, adminToken);
    expect(all).toHaveLength(1_100);

    expect(await checkInvariants({ baseUrl: shop.gatewayUrl as string, adminToken })).toEqual([]);
  }, 240_000);

  it('makes one order of concurrent POSTs that carry one Idempotency-Key', async () => {
    const product = await createProductWithStock(shop, adminToken, { sku: 'LOAD-KEYS', stock: 50 });
    const token = customers[0] as string;
    const body = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'pm_card_visa' };
    const before = (await adminOrders(shop, adminToken)).length;
    const keys = Array.from({ length: 10 }, () => randomUUID());
    for (const key of keys) {
      const answers = await Promise.all(
        [0, 1].map(() =>
          shop.send('POST', '/api/v1/orders', {
            token,
            body,
            headers: { 'idempotency-key': key },
          }),
        ),
      );
      const statuses = answers.map((res) => res.status).sort();
      // Both answered with the one order, or one of them told the key is still in flight.
      expect([
        [202, 202],
        [202, 409],
      ]).toContainEqual(statuses);
      const ids = new Set<string>();
      for (const res of answers) {
        if (res.status === 202) ids.add(((await res.json()) as OrderView).id);
      }
      expect(ids.size).toBe(1);
      // The key's answer afterwards is that same order.
      const again = await placeOrder(shop, token, body, {
        idempotencyKey: key,
        retryForMs: 10_000,
      });
      expect(again.order.id).toBe([...ids][0]);
    }
    const after = await adminOrders(shop, adminToken);
    expect(after.length - before).toBe(keys.length);
    expect(after.filter((o) => o.items[0]?.productId === product.id)).toHaveLength(keys.length);
  });
});

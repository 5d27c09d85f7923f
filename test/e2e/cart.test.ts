import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createProductWithStock,
  handledDeliveries,
  type OrderView,
  startTestShop,
  type TestShop,
  timelineOf,
  waitForSettled,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from './support/customers.ts';

// The cart through the gateway and real sidecars: kept in the shop's state store (Redis),
// priced by catalog's batch call, checked out through orders, and filled again by the
// saga's order.cancelled (inventory and payments real, talking through the broker).
let shop: TestShop;
let adminToken: string;
const admin = { email: 'cart-admin@example.com', password: 'cart admin password' };

type CartView = {
  items: Array<{
    productId: string;
    name: string;
    quantity: number;
    unitPrice: number;
    available: number;
  }>;
  total: number;
  currency: string;
};

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users', 'catalog', 'inventory', 'orders', 'payments', 'cart'],
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

let customers = 0;

/** A new customer and their calls on their own cart. */
async function shopper() {
  customers++;
  const token = await registerCustomer(shop, {
    email: `cart-shopper-${customers}@example.com`,
    password: `cart shopper password ${customers}`,
    name: `Cart Shopper ${customers}`,
  });
  const put = (productId: string, quantity: unknown) =>
    shop.send('PUT', `/api/v1/cart/items/${productId}`, { token, body: { quantity } });
  const view = async () => {
    const res = await shop.send('GET', '/api/v1/cart', { token });
    expect(res.status).toBe(200);
    return (await res.json()) as CartView;
  };
  const lines = async () => (await view()).items.map((i) => [i.productId, i.quantity]);
  const checkout = (key = randomUUID(), paymentMethod = 'pm_card_visa') =>
    shop.send('POST', '/api/v1/cart/checkout', {
      token,
      body: { paymentMethod },
      headers: { 'idempotency-key': key },
    });
  return { token, put, view, lines, checkout };
}

let skus = 0;
const product = (stock: number, price = 2_500) =>
  createProductWithStock(shop, adminToken, { sku: `CART-${++skus}`, stock, price });

/** The order's cancellation, once the saga ended it and the cart has handled its event. */
async function cancelledAndHandled(token: string, orderId: string): Promise<OrderView> {
  const order = await waitForSettled(shop, token, orderId);
  const timeline = await timelineOf(shop, token, orderId);
  const eventId = timeline.find((entry) => entry.step === 'cancelled')?.eventId;
  if (eventId) {
    await pollUntil(() => (handledDeliveries(shop, 'cart', eventId) > 0 ? true : undefined), {
      what: `the cart to handle order.cancelled ${eventId}`,
      timeoutMs: 30_000,
    });
  }
  return order;
}

describe('the cart through the gateway', () => {
  it('adds lines priced and stocked by the catalog, changes and removes them', async () => {
    const { token, put, view, lines } = await shopper();
    expect(await view()).toEqual({ items: [], total: 0, currency: 'USD' });
    const lamp = await product(5, 4_500);
    const desk = await product(1, 15_000);
    expect((await put(lamp.id, 2)).status).toBe(200);
    expect((await put(desk.id, 1)).status).toBe(200);
    // Availability reaches the catalog from inventory's stock.changed, a moment later.
    const priced = await pollUntil(
      async () => {
        const cart = await view();
        return cart.items.every((i) => i.available > 0) ? cart : undefined;
      },
      { what: 'the cart to show stock', timeoutMs: 30_000 },
    );
    expect(priced).toEqual({
      items: [
        expect.objectContaining({
          productId: lamp.id,
          quantity: 2,
          unitPrice: 4_500,
          available: 5,
        }),
        expect.objectContaining({
          productId: desk.id,
          quantity: 1,
          unitPrice: 15_000,
          available: 1,
        }),
      ],
      total: 24_000,
      currency: 'USD',
    });
    expect((await put(lamp.id, 3)).status).toBe(200);
    const removed = await shop.send('DELETE', `/api/v1/cart/items/${desk.id}`, { token });
    expect(removed.status).toBe(200);
    expect(await lines()).toEqual([[lamp.id, 3]]);
    expect((await shop.send('DELETE', '/api/v1/cart', { token })).status).toBe(204);
    expect(await lines()).toEqual([]);
  });

  it('refuses an unknown product with 404 and a quantity of 101 with 400', async () => {
    const { put, lines } = await shopper();
    const lamp = await product(5);
    const unknown = await put(randomUUID(), 1);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect((await put(lamp.id, 101)).status).toBe(400);
    expect(await lines()).toEqual([]);
  });

  it('checks out into an order that is confirmed, emptying the cart; a replay answers the same and keeps a cart filled since', async () => {
    const { token, put, lines, checkout } = await shopper();
    const lamp = await product(5);
    await put(lamp.id, 2);
    const key = randomUUID();
    const placed = await checkout(key);
    expect(placed.status).toBe(202);
    const order = (await placed.json()) as OrderView;
    expect(placed.headers.get('location')).toBe(`/api/v1/orders/${order.id}`);
    expect(order).toMatchObject({ status: 'pending', total: 5_000 });
    expect(await lines()).toEqual([]);
    expect(await waitForSettled(shop, token, order.id)).toMatchObject({ status: 'confirmed' });

    await put(lamp.id, 1);
    const replay = await checkout(key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as OrderView).id).toBe(order.id);
    expect(await lines()).toEqual([[lamp.id, 1]]);
  });

  it('answers 409 for an empty cart, placing nothing', async () => {
    const { checkout } = await shopper();
    const res = await checkout();
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('puts the lines back when the order is cancelled out of stock', async () => {
    const { token, put, lines, checkout } = await shopper();
    const vase = await product(1);
    await put(vase.id, 2);
    const placed = await checkout();
    expect(placed.status).toBe(202);
    const { id } = (await placed.json()) as OrderView;
    expect(await cancelledAndHandled(token, id)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out_of_stock',
    });
    expect(await lines()).toEqual([[vase.id, 2]]);
  });

  it('leaves the lines out when the cart changed before the order was cancelled', async () => {
    const { token, put, lines, checkout } = await shopper();
    const vase = await product(1);
    const other = await product(5);
    await put(vase.id, 3);
    // Inventory away: the order stays pending until the cart has changed.
    await shop.kill('inventory');
    await shop.kill('inventory-dapr');
    let id: string;
    try {
      const placed = await checkout();
      expect(placed.status).toBe(202);
      id = ((await placed.json()) as OrderView).id;
      await put(other.id, 1);
    } finally {
      await shop.restart('inventory-dapr');
      await shop.restart('inventory');
    }
    expect(await cancelledAndHandled(token, id)).toMatchObject({ cancelReason: 'out_of_stock' });
    expect(await lines()).toEqual([[other.id, 1]]);
  }, 120_000);
});

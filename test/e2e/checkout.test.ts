import { randomUUID } from 'node:crypto';
import {
  checkInvariants,
  createProductWithStock,
  eventually,
  paymentsOf as listPayments,
  stockOf as readStock,
  startTestShop,
  type TestShop,
  waitForSettled,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The checkout saga through every real service and sidecar: orders, inventory and payments
// talk only through Dapr pub/sub, and the test reads only the gateway.

type Order = {
  id: string;
  status: 'pending' | 'confirmed' | 'cancelled';
  cancelReason?: string;
  total: number;
};
type Timeline = { items: Array<{ step: string; eventId: string }> };

let shop: TestShop;
let adminToken: string;
let customerToken: string;
const admin = { email: 'checkout-admin@example.com', password: 'admin password 0123' };
const customer = { email: 'checkout-shopper@example.com', password: 'shopper password 0123' };

const json = (method: string, body: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function login(email: string, password: string): Promise<string> {
  const res = await shop.gateway('/api/v1/auth/login', json('POST', { email, password }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function read<T>(path: string, token: string): Promise<T> {
  const res = await shop.gateway(path, bearer(token));
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  shop = await startTestShop({
    // Every answer through the gateway must match its merged OpenAPI document.
    checkOpenApi: true,
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await login(admin.email, admin.password);
  const registered = await shop.gateway(
    '/api/v1/auth/register',
    json('POST', { ...customer, name: 'Shopper' }),
  );
  expect(registered.status).toBe(201);
  customerToken = await login(customer.email, customer.password);
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

let skus = 0;
/** A product with `stock` units, once inventory has opened its stock. */
const productWithStock = (stock: number) =>
  createProductWithStock(shop, adminToken, { sku: `CHECKOUT-${++skus}`, stock });

const stockOf = (productId: string) => readStock(shop, adminToken, productId);
const paymentsOf = async (orderId: string) => ({
  items: await listPayments(shop, adminToken, orderId),
});

async function placeOrder(productId: string, quantity: number, paymentMethod: string) {
  const res = await shop.gateway(
    '/api/v1/orders',
    json(
      'POST',
      { items: [{ productId, quantity }], paymentMethod },
      { authorization: `Bearer ${customerToken}`, 'idempotency-key': randomUUID() },
    ),
  );
  expect(res.status).toBe(202);
  const order = (await res.json()) as Order;
  expect(res.headers.get('location')).toBe(`/api/v1/orders/${order.id}`);
  expect(order.status).toBe('pending');
  return order;
}

/** The order once the saga has settled it. */
const settled = (orderId: string) => waitForSettled(shop, customerToken, orderId);

const stepsOf = async (orderId: string) =>
  (await read<Timeline>(`/api/v1/orders/${orderId}/timeline`, customerToken)).items.map(
    (entry) => entry.step,
  );

describe('checkout through every service', () => {
  it('confirms an order paid with pm_card_visa, with a full timeline, and sells its stock', async () => {
    const product = await productWithStock(5);
    const order = await placeOrder(product.id, 2, 'pm_card_visa');
    expect(await settled(order.id)).toMatchObject({ status: 'confirmed', total: 5_000 });
    expect(await stepsOf(order.id)).toEqual([
      'placed',
      'stock_reserved',
      'payment_succeeded',
      'confirmed',
    ]);
    expect((await paymentsOf(order.id)).items).toEqual([
      expect.objectContaining({ kind: 'charge', status: 'succeeded', amount: 5_000 }),
    ]);
    await eventually(async () => ((await stockOf(product.id)).sold === 2 ? true : undefined), {
      what: 'the reservation to be committed',
    });
    expect(await stockOf(product.id)).toMatchObject({ available: 3, reserved: 0, sold: 2 });
  });

  it('cancels a declined order as payment_declined and releases its stock', async () => {
    const product = await productWithStock(4);
    const order = await placeOrder(product.id, 3, 'pm_card_chargeDeclined');
    expect(await settled(order.id)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'payment_declined',
    });
    await eventually(async () => ((await stockOf(product.id)).available === 4 ? true : undefined), {
      what: 'the reservation to be released',
    });
    expect(await stockOf(product.id)).toMatchObject({ available: 4, reserved: 0, sold: 0 });
  });

  it('cancels an order inventory cannot fill as out_of_stock, and charges nothing', async () => {
    const product = await productWithStock(1);
    const order = await placeOrder(product.id, 2, 'pm_card_visa');
    expect(await settled(order.id)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out_of_stock',
    });
    expect(await stepsOf(order.id)).toEqual(['placed', 'stock_rejected', 'cancelled']);
    expect((await paymentsOf(order.id)).items.filter((p) => p.kind === 'charge')).toEqual([]);
    expect(await stockOf(product.id)).toMatchObject({ available: 1, reserved: 0, sold: 0 });
  });

  it('refunds an order its customer cancels after confirmation, and returns its stock', async () => {
    const product = await productWithStock(3);
    const order = await placeOrder(product.id, 1, 'pm_card_visa');
    expect((await settled(order.id)).status).toBe('confirmed');
    const res = await shop.gateway(`/api/v1/orders/${order.id}/cancel`, {
      method: 'POST',
      ...bearer(customerToken),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'customer_request',
    });
    const refunds = await eventually(
      async () => {
        const found = (await paymentsOf(order.id)).items.filter(
          (p) => p.kind === 'refund' && p.status === 'succeeded',
        );
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 60_000, what: 'the refund' },
    );
    expect(refunds).toEqual([expect.objectContaining({ amount: 2_500 })]);
    await eventually(
      async () => ((await stepsOf(order.id)).includes('payment_refunded') ? true : undefined),
      { what: 'the refund on the timeline' },
    );
    await eventually(async () => ((await stockOf(product.id)).available === 3 ? true : undefined), {
      what: 'the sold unit to be returned to stock',
    });
    expect(await stockOf(product.id)).toMatchObject({ available: 3, reserved: 0, sold: 0 });
  });

  it('leaves the invariant checker nothing to report', async () => {
    expect(await checkInvariants({ baseUrl: shop.gatewayUrl as string, adminToken })).toEqual([]);
  });
});

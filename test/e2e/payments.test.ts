import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import { type EventProbe, eventFixture, type TestShop } from '@shop/devkit/testing';
import type { ShopEvent } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProbedShop } from './support/probed-shop.ts';

// Payments beside its real sidecar, fed through the real broker. Orders and inventory are
// played by this test: it publishes their events through payments' sidecar, and a
// sidecar-only probe app subscribed to the payment topics records what payments publishes.
const admin = { email: 'payments-admin@example.com', password: 'correct horse battery staple' };
let shop: TestShop;
let probe: EventProbe;
let received: ShopEvent[];
let adminToken: string;

beforeAll(async () => {
  ({ shop, probe, received, adminToken } = await startProbedShop(
    'payments',
    ['payment.succeeded', 'payment.failed', 'payment.refunded'],
    admin,
  ));
});

afterAll(async () => {
  await shop?.stop();
  probe?.stop();
});

function sagaEvents(orderId: string, paymentMethod = 'pm_card_visa') {
  return {
    created: eventFixture('order.created', {
      orderId,
      userId: 'e2e-user',
      items: [{ productId: randomUUID(), quantity: 2, unitPrice: 1_500 }],
      total: 3_000,
      paymentMethod,
    }),
    reserved: eventFixture('stock.reserved', {
      orderId,
      items: [{ productId: randomUUID(), quantity: 2 }],
    }),
    cancelled: eventFixture('order.cancelled', { orderId, userId: 'e2e-user', reason: 'expired' }),
  };
}

/** The payment events the probe received about one order, once there are `count` of them. */
const paymentEventsFor = (orderId: string, count: number) =>
  pollUntil(
    async () => {
      const mine = received.filter((e) => 'orderId' in e.data && e.data.orderId === orderId);
      return mine.length >= count ? mine : undefined;
    },
    { timeoutMs: 45_000, what: `${count} payment event(s) for order ${orderId}` },
  );

const adminPayments = (orderId: string, token = adminToken) =>
  shop.gateway(`/api/v1/admin/payments?orderId=${orderId}`, {
    headers: { authorization: `Bearer ${token}` },
  });

describe('payments through the gateway, real sidecars and the broker', () => {
  it('charges an order once its stock is reserved, even when stock.reserved comes first', async () => {
    const orderId = randomUUID();
    const events = sagaEvents(orderId);
    // On another topic, order.created may well arrive after stock.reserved: payments asks
    // Dapr to redeliver stock.reserved until it has the order.
    await shop.publish(events.reserved, 'payments');
    await shop.publish(events.created, 'payments');
    await shop.publish(events.reserved, 'payments');

    const [succeeded] = await paymentEventsFor(orderId, 1);
    expect(succeeded).toMatchObject({
      type: 'payment.succeeded',
      source: 'payments',
      data: { orderId, amount: 3_000, currency: 'USD', provider: 'test' },
    });
    const res = await adminPayments(orderId);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<Record<string, unknown>> };
    expect(items).toEqual([
      expect.objectContaining({ kind: 'charge', status: 'succeeded', amount: 3_000 }),
    ]);
  });

  it('refunds a charged order that is cancelled, and publishes payment.refunded', async () => {
    const orderId = randomUUID();
    const events = sagaEvents(orderId);
    await shop.publish(events.created, 'payments');
    await shop.publish(events.reserved, 'payments');
    await paymentEventsFor(orderId, 1);
    await shop.publish(events.cancelled, 'payments');

    const [, refunded] = await paymentEventsFor(orderId, 2);
    expect(refunded).toMatchObject({ type: 'payment.refunded', data: { orderId, amount: 3_000 } });
    const { items } = (await (await adminPayments(orderId)).json()) as {
      items: Array<{ kind: string; status: string }>;
    };
    expect(items.map((item) => [item.kind, item.status])).toEqual([
      ['refund', 'succeeded'],
      ['charge', 'succeeded'],
    ]);
  });

  it('publishes payment.failed for a declined card', async () => {
    const orderId = randomUUID();
    const events = sagaEvents(orderId, 'pm_card_chargeDeclined');
    await shop.publish(events.created, 'payments');
    await shop.publish(events.reserved, 'payments');
    const [failed] = await paymentEventsFor(orderId, 1);
    expect(failed).toMatchObject({
      type: 'payment.failed',
      data: { orderId, reason: 'card_declined' },
    });
  });

  it('shows payments to admins only', async () => {
    const customer = { email: 'payer@example.com', password: 'correct horse battery' };
    const registered = await shop.gateway('/api/v1/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...customer, name: 'Payer' }),
    });
    expect(registered.status).toBe(201);
    const customerToken = await shop.login(customer.email, customer.password);
    expect((await adminPayments(randomUUID(), customerToken)).status).toBe(403);
    expect((await shop.gateway('/api/v1/admin/payments')).status).toBe(401);
  });
});

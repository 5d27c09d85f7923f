import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { freePorts } from '@shop/devkit/supervisor';
import { eventually, silentLogger, startTestShop, type TestShop } from '@shop/devkit/testing';
import {
  buildEvent,
  createEventConsumer,
  createMemoryDeadLetterStore,
  createServiceApp,
  defineConsumer,
  type ShopEvent,
} from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Payments beside its real sidecar, fed through the real broker. Orders and inventory are
// played by this test: it publishes their events through payments' sidecar, and a
// sidecar-only probe app subscribed to the payment topics records what payments publishes.
const probeTopics = ['payment.succeeded', 'payment.failed', 'payment.refunded'] as const;
const probeSubscriptions = probeTopics
  .map(
    (topic) => `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: probe-${topic.replace('.', '-')}
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes:
    default: /events/${topic}
scopes: [probe]
`,
  )
  .join('---\n');

const admin = { email: 'payments-admin@example.com', password: 'correct horse battery staple' };
let shop: TestShop;
let probe: ServerType;
let resourcesDir: string;
let probeApiToken = 'not-yet-known-0000000000';
const received: ShopEvent[] = [];
let adminToken: string;

function startProbe(port: number): ServerType {
  const logger = silentLogger('probe');
  const record = async (event: ShopEvent) => {
    received.push(event);
    return 'SUCCESS' as const;
  };
  const app = createServiceApp({
    service: 'probe',
    logger,
    get appApiToken() {
      return probeApiToken;
    },
  });
  app.route(
    '/',
    createEventConsumer({
      appId: 'probe',
      logger,
      deadLetters: createMemoryDeadLetterStore(),
      definition: defineConsumer({
        consumes: { 'payment.succeeded': [1], 'payment.failed': [1], 'payment.refunded': [1] },
        handlers: {
          'payment.succeeded': record,
          'payment.failed': record,
          'payment.refunded': record,
        },
      }),
    }),
  );
  return serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
}

async function login(email: string, password: string): Promise<string> {
  const res = await shop.gateway('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

beforeAll(async () => {
  resourcesDir = mkdtempSync(join(tmpdir(), 'payments-probe-'));
  writeFileSync(join(resourcesDir, 'subscriptions.yaml'), probeSubscriptions);
  const [port] = (await freePorts(1)) as [number];
  probe = startProbe(port);
  shop = await startTestShop({
    apps: ['gateway', 'users', 'payments'],
    sidecarsOnly: [{ appId: 'probe', appPort: port }],
    extraResourcesPaths: [resourcesDir],
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  probeApiToken = shop.apps.probe?.appApiToken as string;
  adminToken = await login(admin.email, admin.password);
});

afterAll(async () => {
  await shop?.stop();
  probe?.close();
  if (resourcesDir) rmSync(resourcesDir, { recursive: true, force: true });
});

const source = 'e2e';

function sagaEvents(orderId: string, paymentMethod = 'pm_card_visa') {
  return {
    created: buildEvent(
      'order.created',
      {
        orderId,
        userId: 'e2e-user',
        items: [{ productId: randomUUID(), quantity: 2, unitPrice: 1_500 }],
        total: 3_000,
        currency: 'USD',
        paymentMethod,
        createdAt: new Date().toISOString(),
      },
      { source },
    ),
    reserved: buildEvent(
      'stock.reserved',
      {
        orderId,
        items: [{ productId: randomUUID(), quantity: 2 }],
        reservedAt: new Date().toISOString(),
      },
      { source },
    ),
    cancelled: buildEvent(
      'order.cancelled',
      { orderId, userId: 'e2e-user', reason: 'expired', cancelledAt: new Date().toISOString() },
      { source },
    ),
  };
}

/** The payment events the probe received about one order, once there are `count` of them. */
const paymentEventsFor = (orderId: string, count: number) =>
  eventually(
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
    const customerToken = await login(customer.email, customer.password);
    expect((await adminPayments(randomUUID(), customerToken)).status).toBe(403);
    expect((await shop.gateway('/api/v1/admin/payments')).status).toBe(401);
  });
});

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { purgeExpiredKeys } from '../idempotency/key-store.ts';
import { useOrdersApp } from '../test-support.ts';
import type { OrderView } from './schemas.ts';

const bodyFor = (productId: string, quantity = 1) => ({
  items: [{ productId, quantity }],
  paymentMethod: 'pm_card_visa',
});

describe.each(databaseBackends)('placing orders on %s', (backend) => {
  const orders = useOrdersApp(backend);
  const { catalog } = orders;

  const ctx = { orders, catalog, ...placementHelpers(orders) };

  pricingCases(ctx);
  unknownProductCases(ctx);
  invalidBodyCases(ctx);
  malformedAndUnavailableCases(ctx);
  idempotencyKeyCases(ctx);
});

type OrdersApp = ReturnType<typeof useOrdersApp>;
type Ctx = { orders: OrdersApp; catalog: OrdersApp['catalog'] } & ReturnType<
  typeof placementHelpers
>;

/** A user's order rows, the attempt holding a key, and the order.created published. */
function placementHelpers(orders: OrdersApp) {
  const ordersOf = async (userId: string) =>
    orders.get().db.selectFrom('orders').selectAll().where('user_id', '=', userId).execute();

  const attemptHolding = (key: string) =>
    orders
      .get()
      .db.selectFrom('idempotency_keys')
      .select('attempt_id')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();

  const createdEventsFor = async (orderId: string) => {
    await orders.get().outbox.drain();
    return orders.published.filter(
      (event) => event.type === 'order.created' && event.data.orderId === orderId,
    );
  };
  return { ordersOf, attemptHolding, createdEventsFor };
}

function pricingCases({ orders, catalog, createdEventsFor }: Ctx) {
  it('takes an order from the cart for its user, and nothing else of the API from it', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ name: 'Lamp', price: 1250 });
    const fromCart = (method: string, path: string, body?: unknown) =>
      orders.call(method, path, {
        body,
        token: user.token,
        caller: 'cart',
        headers: { 'idempotency-key': randomUUID() },
      });
    const placed = await fromCart('POST', '/api/v1/orders', bodyFor(lamp.id));
    expect(placed.status).toBe(202);
    expect(await placed.json()).toMatchObject({ userId: user.id, status: 'pending' });
    expect((await fromCart('GET', '/api/v1/orders')).status).toBe(403);
    expect((await orders.call('POST', '/api/v1/orders', { caller: 'payments' })).status).toBe(403);
  });

  it('prices every line from the catalog, never from the client, and answers 202 with Location', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ name: 'Lamp', price: 1250 });
    const desk = catalog.add({ name: 'Desk', price: 15000 });
    const res = await orders.place(user.token, {
      items: [
        { productId: lamp.id, quantity: 2, unitPrice: 1 },
        { productId: desk.id, quantity: 1 },
      ],
      paymentMethod: 'pm_card_visa',
      total: 1,
    });
    expect(res.status).toBe(202);
    const order = (await res.json()) as OrderView;
    expect(res.headers.get('location')).toBe(`/api/v1/orders/${order.id}`);
    expect(order).toMatchObject({
      userId: user.id,
      status: 'pending',
      items: [
        { productId: lamp.id, name: 'Lamp', quantity: 2, unitPrice: 1250 },
        { productId: desk.id, name: 'Desk', quantity: 1, unitPrice: 15000 },
      ],
      total: 17500,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
    });
    expect(order).not.toHaveProperty('cancelReason');
    const [created] = await createdEventsFor(order.id);
    expect(created?.data).toMatchObject({
      userId: user.id,
      total: 17500,
      items: [
        { productId: lamp.id, quantity: 2, unitPrice: 1250 },
        { productId: desk.id, quantity: 1, unitPrice: 15000 },
      ],
    });
  });

  it('merges a product listed twice into one line', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const res = await orders.place(user.token, {
      items: [
        { productId: lamp.id, quantity: 2 },
        { productId: lamp.id, quantity: 3 },
      ],
      paymentMethod: 'pm_card_visa',
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as OrderView).items).toEqual([
      expect.objectContaining({ productId: lamp.id, quantity: 5 }),
    ]);
  });
}

function unknownProductCases({ orders, catalog, ordersOf }: Ctx) {
  it('answers 422 naming each unknown or deleted product, and writes nothing', async () => {
    const user = await orders.newUser();
    const known = catalog.add({ price: 100 });
    const deleted = catalog.add({ price: 100 });
    catalog.remove(deleted.id);
    const never = randomUUID();
    const key = randomUUID();
    const body = {
      items: [
        { productId: known.id, quantity: 1 },
        { productId: deleted.id, quantity: 1 },
        { productId: never, quantity: 1 },
      ],
      paymentMethod: 'pm_card_visa',
    };
    const res = await orders.place(user.token, body, key);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.errors?.map((e) => e.message)).toEqual([
      `no product ${deleted.id}`,
      `no product ${never}`,
    ]);
    expect(await ordersOf(user.id)).toEqual([]);
    // The key was given back: once the product exists the same request succeeds.
    catalog.add({ id: deleted.id, price: 100 });
    catalog.add({ id: never, price: 100 });
    expect((await orders.place(user.token, body, key)).status).toBe(202);
  });
}

function invalidBodyCases({ orders, catalog, ordersOf }: Ctx) {
  it.each([
    ['no lines', { items: [] }, 'items'],
    [
      '51 lines',
      { items: Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 })) },
      'items',
    ],
    ['quantity 0', { items: [{ productId: randomUUID(), quantity: 0 }] }, 'items.0.quantity'],
    ['quantity 101', { items: [{ productId: randomUUID(), quantity: 101 }] }, 'items.0.quantity'],
    [
      'a product id that is no uuid',
      { items: [{ productId: 'p-1', quantity: 1 }] },
      'items.0.productId',
    ],
    [
      'more than 100 of one product in all',
      {
        items: [
          { productId: '00000000-0000-4000-8000-000000000001', quantity: 60 },
          { productId: '00000000-0000-4000-8000-000000000001', quantity: 41 },
        ],
      },
      'items',
    ],
    ['an unknown payment method', { paymentMethod: 'pm_card_mastercard' }, 'paymentMethod'],
  ])('answers 400 for %s, naming %s, and writes nothing', async (_, fields, path) => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const res = await orders.place(user.token, {
      items: [{ productId: lamp.id, quantity: 1 }],
      paymentMethod: 'pm_card_visa',
      ...fields,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain(path);
    expect(await ordersOf(user.id)).toEqual([]);
  });
}

function malformedAndUnavailableCases({ orders, catalog, ordersOf }: Ctx) {
  it('answers 400 for malformed JSON', async () => {
    const user = await orders.newUser();
    const res = await orders.get().app.request('/api/v1/orders', {
      method: 'POST',
      headers: {
        'dapr-api-token': orders.appApiToken,
        'dapr-caller-app-id': 'gateway',
        authorization: `Bearer ${user.token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      body: '{"items": [',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('needs an access token', async () => {
    const res = await orders.call('POST', '/api/v1/orders', {
      body: { items: [], paymentMethod: 'pm_card_visa' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(401);
  });

  it('answers 503 when the catalog cannot be reached, and the same key works once it can', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const body = { items: [{ productId: lamp.id, quantity: 1 }], paymentMethod: 'pm_card_visa' };
    const key = randomUUID();
    catalog.down = true;
    try {
      expect((await orders.place(user.token, body, key)).status).toBe(503);
    } finally {
      catalog.down = false;
    }
    expect(await ordersOf(user.id)).toEqual([]);
    expect((await orders.place(user.token, body, key)).status).toBe(202);
  });
}

function idempotencyKeyCases(ctx: Ctx) {
  describe('the Idempotency-Key', () => {
    keyRequiredAndReplayCases(ctx);
    keyConflictCases(ctx);
    keyOwnerAndLifetimeCases(ctx);
    keyTakeoverCases(ctx);
  });
}

function keyRequiredAndReplayCases({ orders, catalog, ordersOf }: Ctx) {
  it('is required: without it the answer is 400 and nothing is written', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const res = await orders.place(user.token, bodyFor(lamp.id), null);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain('idempotency-key');
    expect(await ordersOf(user.id)).toEqual([]);
  });

  it('replays the first answer, status, body and Location, to the same body, and places one order', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const first = await orders.place(user.token, bodyFor(lamp.id), key);
    expect(first.status).toBe(202);
    // The price changes in between: the replay is the stored answer, not a new pricing.
    catalog.add({ ...lamp, price: 999 });
    const again = await orders.place(
      user.token,
      { paymentMethod: 'pm_card_visa', items: [{ quantity: 1, productId: lamp.id }] },
      key,
    );
    expect(again.status).toBe(202);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await again.json()).toEqual(await first.json());
    expect(await ordersOf(user.id)).toHaveLength(1);
  });

  it('accepts the structured-field form "key" as the same key', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const first = (await (
      await orders.place(user.token, bodyFor(lamp.id), key)
    ).json()) as OrderView;
    const quoted = await orders.place(user.token, bodyFor(lamp.id), `"${key}"`);
    expect(((await quoted.json()) as OrderView).id).toBe(first.id);
  });
}

function keyConflictCases({ orders, catalog, ordersOf, createdEventsFor }: Ctx) {
  it('answers 422 to the same key with another body, and places nothing more', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    expect((await orders.place(user.token, bodyFor(lamp.id, 1), key)).status).toBe(202);
    const other = await orders.place(user.token, bodyFor(lamp.id, 2), key);
    expect(other.status).toBe(422);
    expect(((await other.json()) as Problem).detail).toMatch(/another request body/);
    expect(await ordersOf(user.id)).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const release = catalog.hold();
    const first = orders.place(user.token, bodyFor(lamp.id), key);
    try {
      // The first request holds the key while it waits for the catalog.
      await orders.keyClaimed(key);
      const second = await orders.place(user.token, bodyFor(lamp.id), key);
      expect(second.status).toBe(409);
      expect(second.headers.get('retry-after')).toBe('1');
    } finally {
      release();
    }
    expect((await first).status).toBe(202);
    expect(await ordersOf(user.id)).toHaveLength(1);
  });

  it('lets two concurrent requests with one key make exactly one order', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const answers = await Promise.all(
      [1, 2, 3].map(() => orders.place(user.token, bodyFor(lamp.id), key)),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses).toContain(202);
    expect(statuses.every((status) => status === 202 || status === 409)).toBe(true);
    const ids = new Set(
      await Promise.all(
        answers
          .filter((res) => res.status === 202)
          .map(async (res) => ((await res.json()) as OrderView).id),
      ),
    );
    expect(ids.size).toBe(1);
    const placed = await ordersOf(user.id);
    expect(placed).toHaveLength(1);
    expect(await createdEventsFor(placed[0]?.id as string)).toHaveLength(1);
  });
}

function keyOwnerAndLifetimeCases({ orders, catalog, ordersOf }: Ctx) {
  it('belongs to its user: another user with the same key places their own order', async () => {
    const ada = await orders.newUser();
    const bob = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const fromAda = (await (
      await orders.place(ada.token, bodyFor(lamp.id), key)
    ).json()) as OrderView;
    const fromBob = await orders.place(bob.token, bodyFor(lamp.id), key);
    expect(fromBob.status).toBe(202);
    expect(((await fromBob.json()) as OrderView).id).not.toBe(fromAda.id);
  });

  it('is kept 24 hours, then purged, and a purged key places a new order', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    await orders.place(user.token, bodyFor(lamp.id), key);
    const { db } = orders.get();
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: sql<Date>`now() - interval '24 hours 1 minute'` } as never)
      .where('key', '=', key)
      .execute();
    expect(await purgeExpiredKeys(db)).toBeGreaterThanOrEqual(1);
    expect((await orders.place(user.token, bodyFor(lamp.id), key)).status).toBe(202);
    expect(await ordersOf(user.id)).toHaveLength(2);
  });
}

function keyTakeoverCases({ orders, catalog, ordersOf, attemptHolding }: Ctx) {
  it('can be taken over after an attempt died holding it, and the dead attempt cannot complete it', async () => {
    const user = await orders.newUser();
    const lamp = catalog.add({ price: 100 });
    const key = randomUUID();
    const release = catalog.hold();
    const stalled = orders.place(user.token, bodyFor(lamp.id), key);
    let takeover: Promise<Response>;
    try {
      await orders.keyClaimed(key);
      // As if the attempt had held the key for longer than any live attempt does.
      await orders
        .get()
        .db.updateTable('idempotency_keys')
        .set({ locked_at: sql<Date>`now() - interval '1 hour'` })
        .where('key', '=', key)
        .execute();
      const { attempt_id: stalledAttempt } = await attemptHolding(key);
      takeover = orders.place(user.token, bodyFor(lamp.id), key);
      await pollUntil(
        async () => ((await attemptHolding(key)).attempt_id !== stalledAttempt ? true : undefined),
        { what: 'the takeover to hold the stale Idempotency-Key', timeoutMs: 20_000 },
      );
    } finally {
      release();
    }
    // The stalled attempt finds the key no longer its own and places nothing.
    expect((await stalled).status).toBe(409);
    expect((await takeover).status).toBe(202);
    expect(await ordersOf(user.id)).toHaveLength(1);
  });
}

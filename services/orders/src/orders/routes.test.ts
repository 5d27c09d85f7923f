import { randomUUID } from 'node:crypto';
import { databaseBackends } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { sagaEvents, useOrdersApp } from '../test-support.ts';
import type { OrderView } from './schemas.ts';

type Page = { items: OrderView[]; nextCursor: string | null };

describe.each(databaseBackends)('reading and cancelling orders on %s', (backend) => {
  const orders = useOrdersApp(backend);
  const ctx = { orders, ...orderCalls(orders) };

  readCases(ctx);
  cancelCases(ctx);
  adminCases(ctx);
});

type OrdersApp = ReturnType<typeof useOrdersApp>;
type Ctx = { orders: OrdersApp } & ReturnType<typeof orderCalls>;

/** Reading and cancelling as a given user. */
function orderCalls(orders: OrdersApp) {
  const get = async (path: string, token: string) => orders.call('GET', path, { token });
  const cancel = (order: OrderView, token: string) =>
    orders.call('POST', `/api/v1/orders/${order.id}/cancel`, { token });
  return { get, cancel };
}

function readCases({ orders, get, cancel }: Ctx) {
  it('shows an order to its owner and answers 404 to anyone else, for the order and its timeline', async () => {
    const owner = await orders.newUser();
    const other = await orders.newUser();
    const order = await orders.placePending(owner.token);
    const own = await get(`/api/v1/orders/${order.id}`, owner.token);
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual(order);
    expect((await get(`/api/v1/orders/${order.id}`, other.token)).status).toBe(404);
    expect((await get(`/api/v1/orders/${order.id}/timeline`, other.token)).status).toBe(404);
    expect((await cancel(order, other.token)).status).toBe(404);
    expect((await get(`/api/v1/orders/${randomUUID()}`, owner.token)).status).toBe(404);
    expect((await get('/api/v1/orders/not-a-uuid', owner.token)).status).toBe(400);
  });

  it('lists only the caller’s orders, newest first, in cursor pages, filtered by status', async () => {
    const user = await orders.newUser();
    const someoneElse = await orders.newUser();
    await orders.placePending(someoneElse.token);
    const placed: OrderView[] = [];
    for (let i = 0; i < 5; i++) placed.push(await orders.placePending(user.token));
    await orders.deliver(sagaEvents.stockRejected(placed[1] as OrderView));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = (await (await get(`/api/v1/orders?limit=2${query}`, user.token)).json()) as Page;
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(placed.map((o) => o.id).reverse());

    const cancelled = (await (
      await get('/api/v1/orders?status=cancelled', user.token)
    ).json()) as Page;
    expect(cancelled.items.map((o) => o.id)).toEqual([placed[1]?.id]);
    expect((await get('/api/v1/orders?status=lost', user.token)).status).toBe(400);
    expect((await get('/api/v1/orders?cursor=garbage', user.token)).status).toBe(400);
  });
}

function cancelCases({ orders, get, cancel }: Ctx) {
  it('lets the owner cancel a pending order once, with customer_request; then 409', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    const res = await cancel(order, user.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'customer_request',
    });
    const again = await cancel(order, user.token);
    expect(again.status).toBe(409);
    await orders.get().outbox.drain();
    const events = orders.published.filter(
      (e) => e.type === 'order.cancelled' && e.data.orderId === order.id,
    );
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: 'customer_request', userId: user.id }),
    ]);
  });

  it('lets the owner cancel a confirmed order, which announces it for the refund and the stock', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.paymentSucceeded(order));
    const res = await cancel(order, user.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'customer_request',
    });
    // A late payment.succeeded redelivery cannot bring it back.
    await orders.deliver(sagaEvents.paymentSucceeded(order));
    expect(
      ((await (await get(`/api/v1/orders/${order.id}`, user.token)).json()) as OrderView).status,
    ).toBe('cancelled');
  });

  it('refuses to cancel an order the saga cancelled, with 409', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.paymentFailed(order));
    const res = await cancel(order, user.token);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
}

function adminCases({ orders, get }: Ctx) {
  it('shows every user’s orders to an admin and answers 403 to a customer', async () => {
    const ada = await orders.newUser();
    const bob = await orders.newUser();
    const admin = await orders.newUser('admin');
    const fromAda = await orders.placePending(ada.token);
    const fromBob = await orders.placePending(bob.token);
    const customer = await get('/api/v1/admin/orders', ada.token);
    expect(customer.status).toBe(403);
    const page = (await (await get('/api/v1/admin/orders?limit=100', admin.token)).json()) as Page;
    const ids = page.items.map((o) => o.id);
    expect(ids).toContain(fromAda.id);
    expect(ids).toContain(fromBob.id);
    const pending = (await (
      await get('/api/v1/admin/orders?status=confirmed&limit=100', admin.token)
    ).json()) as Page;
    expect(pending.items.every((o) => o.status === 'confirmed')).toBe(true);
    expect((await orders.call('GET', '/api/v1/admin/orders')).status).toBe(401);
  });
}

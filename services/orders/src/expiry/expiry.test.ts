import { databaseBackends, seriesValue, silentLogger } from '@shop/devkit/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { orderMetrics } from '../orders/metrics.ts';
import type { OrderView } from '../orders/schemas.ts';
import { sagaEvents, useOrdersApp } from '../test-support.ts';
import { expirePendingOrders } from './service.ts';

describe.each(databaseBackends)('order expiry on %s', (backend) => {
  const orders = useOrdersApp(backend, { orderTtlSeconds: 1 });
  // Sweeps called directly count on a registry of their own; the app's is read through its route.
  const deps = () => ({
    ...orders.get(),
    logger: silentLogger(),
    metrics: orderMetrics(new Registry()),
  });

  const statusOf = async (order: OrderView) =>
    await orders
      .get()
      .db.selectFrom('orders')
      .select(['status', 'cancel_reason'])
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();

  it('cancels each stale pending order exactly once when several sweeps run at once', async () => {
    const user = await orders.newUser();
    const stale: OrderView[] = [];
    for (let i = 0; i < 45; i++) stale.push(await orders.placePending(user.token));
    const settled = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.paymentSucceeded(settled));
    const after = new Date(Date.now() + 60_000);

    const counts = await Promise.all([1, 2, 3, 4].map(() => expirePendingOrders(deps(), after)));
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(stale.length);

    for (const order of stale) {
      expect(await statusOf(order)).toEqual({ status: 'cancelled', cancel_reason: 'expired' });
    }
    expect(await statusOf(settled)).toEqual({ status: 'confirmed', cancel_reason: null });
    await orders.get().outbox.drain();
    for (const order of stale) {
      const reasons = orders.published.flatMap((e) =>
        e.type === 'order.cancelled' && e.data.orderId === order.id ? [e.data.reason] : [],
      );
      expect(reasons).toEqual(['expired']);
    }
  });

  it('leaves an order younger than its time to live alone', async () => {
    const user = await orders.newUser();
    const fresh = await orders.placePending(user.token);
    await expirePendingOrders(deps(), new Date(Date.now() - 60_000));
    expect(await statusOf(fresh)).toEqual({ status: 'pending', cancel_reason: null });
  });

  it('is triggered by the cron binding, which names no calling app; invocation by an app is refused', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    // Backdate it past the 1-second time to live instead of waiting.
    await orders
      .get()
      .db.updateTable('orders')
      .set({ created_at: new Date(Date.now() - 10_000) } as never)
      .where('id', '=', order.id)
      .execute();
    const fromApp = await orders.call('POST', '/order-expiry', { caller: 'payments' });
    expect(fromApp.status).toBe(403);
    expect(await statusOf(order)).toEqual({ status: 'pending', cancel_reason: null });
    const fromBinding = await orders.call('POST', '/order-expiry', { caller: null });
    expect(fromBinding.status).toBe(200);
    expect(await statusOf(order)).toEqual({ status: 'cancelled', cancel_reason: 'expired' });
    const noToken = await orders.get().app.request('/order-expiry', { method: 'POST' });
    expect(noToken.status).toBe(401);
  });

  it('counts each expired order once as orders_cancelled_total{reason="expired"}', async () => {
    const { app, db } = orders.get();
    const counted = async () =>
      (await seriesValue(app, 'orders_cancelled_total', { reason: 'expired' })) ?? 0;
    const stored = async () =>
      Number(
        (
          await db
            .selectFrom('orders')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('cancel_reason', '=', 'expired')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await db
      .updateTable('orders')
      .set({ created_at: new Date(Date.now() - 10_000) } as never)
      .where('id', '=', order.id)
      .execute();
    const before = { counted: await counted(), stored: await stored() };
    for (let i = 0; i < 2; i++) {
      expect((await orders.call('POST', '/order-expiry', { caller: null })).status).toBe(200);
    }
    expect(await statusOf(order)).toEqual({ status: 'cancelled', cancel_reason: 'expired' });
    // Orders of earlier cases may expire in the same sweeps: each one counts once.
    const expired = (await stored()) - before.stored;
    expect(expired).toBeGreaterThanOrEqual(1);
    expect((await counted()) - before.counted).toBe(expired);
  });
});

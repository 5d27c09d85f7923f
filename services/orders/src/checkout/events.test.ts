import { databaseBackends, eventFixture, seriesValue } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { OrderView, TimelineView } from '../orders/schemas.ts';
import { sagaEvents, useOrdersApp } from '../test-support.ts';

describe.each(databaseBackends)('the checkout saga on %s', (backend) => {
  const orders = useOrdersApp(backend);

  const ctx = { orders, ...sagaHelpers(orders) };

  confirmCases(ctx);
  cancelCases(ctx);
  lateAndRacingCases(ctx);
  unknownOrderCases(ctx);
  metricsCases(ctx);
});

type OrdersApp = ReturnType<typeof useOrdersApp>;
type Ctx = { orders: OrdersApp } & ReturnType<typeof sagaHelpers>;

/** An order's status and timeline as its owner reads them, and what was published about it. */
function sagaHelpers(orders: OrdersApp) {
  const status = async (order: OrderView, token: string) =>
    (await (await orders.call('GET', `/api/v1/orders/${order.id}`, { token })).json()) as OrderView;
  const steps = async (order: OrderView, token: string) =>
    (
      (await (
        await orders.call('GET', `/api/v1/orders/${order.id}/timeline`, { token })
      ).json()) as TimelineView
    ).items;
  const publishedAbout = async (order: OrderView, type: string) => {
    await orders.get().outbox.drain();
    return orders.published.filter(
      (e) => e.type === type && 'orderId' in e.data && e.data.orderId === order.id,
    );
  };
  return { status, steps, publishedAbout };
}

function confirmCases({ orders, status, steps, publishedAbout }: Ctx) {
  it('confirms on payment.succeeded after stock.reserved, publishes order.confirmed, and records every step', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    const reserved = sagaEvents.stockReserved(order);
    const paid = sagaEvents.paymentSucceeded(order);
    expect(await orders.deliver(reserved)).toBe('SUCCESS');
    expect(await orders.deliver(paid)).toBe('SUCCESS');
    expect(await status(order, user.token)).toMatchObject({ status: 'confirmed' });
    const [confirmed] = await publishedAbout(order, 'order.confirmed');
    expect(confirmed?.data).toMatchObject({ userId: user.id, total: order.total, currency: 'USD' });
    expect(await steps(order, user.token)).toEqual([
      expect.objectContaining({ step: 'placed' }),
      expect.objectContaining({ step: 'stock_reserved', eventId: reserved.id }),
      expect.objectContaining({ step: 'payment_succeeded', eventId: paid.id }),
      expect.objectContaining({ step: 'confirmed', eventId: confirmed?.id }),
    ]);
  });

  it('applies a redelivered event once', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    const paid = sagaEvents.paymentSucceeded(order);
    for (let i = 0; i < 3; i++) expect(await orders.deliver(paid)).toBe('SUCCESS');
    expect(await publishedAbout(order, 'order.confirmed')).toHaveLength(1);
    expect((await steps(order, user.token)).map((s) => s.step)).toEqual([
      'placed',
      'payment_succeeded',
      'confirmed',
    ]);
  });
}

function cancelCases({ orders, status, steps, publishedAbout }: Ctx) {
  it('cancels as out_of_stock on stock.rejected, once', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    const rejected = sagaEvents.stockRejected(order);
    await orders.deliver(rejected);
    await orders.deliver(rejected);
    expect(await status(order, user.token)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out_of_stock',
    });
    const cancelled = await publishedAbout(order, 'order.cancelled');
    expect(cancelled.map((e) => e.data)).toEqual([
      expect.objectContaining({ userId: user.id, reason: 'out_of_stock' }),
    ]);
  });

  it('cancels as payment_declined on payment.failed, recording the reason', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.stockReserved(order));
    await orders.deliver(sagaEvents.paymentFailed(order));
    expect(await status(order, user.token)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'payment_declined',
    });
    expect(await steps(order, user.token)).toContainEqual(
      expect.objectContaining({ step: 'payment_failed', detail: 'card_declined' }),
    );
    expect(await publishedAbout(order, 'order.cancelled')).toHaveLength(1);
  });
}

function lateAndRacingCases({ orders, status, steps, publishedAbout }: Ctx) {
  it('leaves a cancelled order cancelled when payment.succeeded comes late, and records it (payments refunds on its own)', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.stockRejected(order));
    expect(await orders.deliver(sagaEvents.paymentSucceeded(order))).toBe('SUCCESS');
    await orders.deliver(sagaEvents.paymentRefunded(order));
    expect(await status(order, user.token)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out_of_stock',
    });
    expect(await publishedAbout(order, 'order.confirmed')).toEqual([]);
    expect((await steps(order, user.token)).map((s) => s.step)).toEqual([
      'placed',
      'stock_rejected',
      'cancelled',
      'payment_succeeded',
      'payment_refunded',
    ]);
  });

  it('never moves a confirmed order back: stock.rejected and payment.failed after payment.succeeded change nothing', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await orders.deliver(sagaEvents.paymentSucceeded(order));
    await orders.deliver(sagaEvents.stockRejected(order));
    await orders.deliver(sagaEvents.paymentFailed(order));
    expect(await status(order, user.token)).toMatchObject({ status: 'confirmed' });
    expect(await publishedAbout(order, 'order.cancelled')).toEqual([]);
  });

  it('settles an order once when a confirmation and a cancellation race', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    await Promise.all([
      orders.deliver(sagaEvents.paymentSucceeded(order)),
      orders.deliver(sagaEvents.stockRejected(order)),
    ]);
    const settled = [
      ...(await publishedAbout(order, 'order.confirmed')),
      ...(await publishedAbout(order, 'order.cancelled')),
    ];
    expect(settled).toHaveLength(1);
    const final = await status(order, user.token);
    expect(final.status).toBe(settled[0]?.type === 'order.confirmed' ? 'confirmed' : 'cancelled');
  });
}

function unknownOrderCases({ orders }: Ctx) {
  it('drops an event about an order it never had, to the dead letters, and keeps no receipt', async () => {
    const user = await orders.newUser();
    const order = await orders.placePending(user.token);
    const stranger = sagaEvents.paymentSucceeded({ ...order, id: crypto.randomUUID() });
    expect(await orders.deliver(stranger)).toBe('DROP');
    const receipts = await orders
      .get()
      .db.selectFrom('processed_events')
      .select('event_id')
      .where('event_id', '=', stranger.id)
      .execute();
    expect(receipts).toEqual([]);
  });
}

function metricsCases({ orders }: Ctx) {
  const value = async (name: string, labels: Record<string, string>) =>
    (await seriesValue(orders.get().app, name, labels)) ?? 0;
  const counters = async () => ({
    placed: await value('orders_placed_total', { currency: 'USD' }),
    confirmed: await value('orders_confirmed_total', { currency: 'USD' }),
    revenue: await value('orders_revenue_minor_total', { currency: 'USD' }),
  });
  const step = async (name: string) => ({
    count: await value('saga_step_duration_seconds_count', { step: name }),
    sum: await value('saga_step_duration_seconds_sum', { step: name }),
  });
  const steps = async () => ({
    reserved: await step('placed_to_reserved'),
    paid: await step('reserved_to_paid'),
    confirmedAfterPaid: await step('paid_to_confirmed'),
    confirmed: await step('placed_to_confirmed'),
  });

  it('counts a placed and a confirmed order, its revenue, and its saga steps from the timeline, once', async () => {
    const user = await orders.newUser();
    const [before, stepsBefore] = [await counters(), await steps()];
    const order = await orders.placePending(user.token, 2);
    expect((await counters()).placed - before.placed).toBe(1);
    const placedAt = new Date(order.createdAt).getTime();
    const { stockReserved, paymentSucceeded } = sagaEvents;
    const reserved = { ...stockReserved(order), time: new Date(placedAt + 2_000).toISOString() };
    const paid = { ...paymentSucceeded(order), time: new Date(placedAt + 5_000).toISOString() };
    await orders.deliver(reserved);
    for (let i = 0; i < 2; i++) expect(await orders.deliver(paid)).toBe('SUCCESS');
    const [after, stepsAfter] = [await counters(), await steps()];
    expect(after.confirmed - before.confirmed).toBe(1);
    expect(after.revenue - before.revenue).toBe(order.total);
    expect(order.total).toBe(2_500);
    for (const name of ['reserved', 'paid', 'confirmedAfterPaid', 'confirmed'] as const) {
      expect(stepsAfter[name].count - stepsBefore[name].count).toBe(1);
    }
    expect(stepsAfter.reserved.sum - stepsBefore.reserved.sum).toBeCloseTo(2, 6);
    expect(stepsAfter.paid.sum - stepsBefore.paid.sum).toBeCloseTo(3, 6);
    // Confirmed now, before the payment's (future) time: a skew counts as 0, never negative.
    const afterPaid = stepsAfter.confirmedAfterPaid.sum - stepsBefore.confirmedAfterPaid.sum;
    expect(afterPaid).toBeCloseTo(0, 6);
    const total = stepsAfter.confirmed.sum - stepsBefore.confirmed.sum;
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(60);
  });

  it('counts cancellations by reason: stock_rejected, payment_failed and other (the customer)', async () => {
    const reasons = ['stock_rejected', 'payment_failed', 'other'];
    const count = async () =>
      Promise.all(reasons.map((reason) => value('orders_cancelled_total', { reason })));
    const user = await orders.newUser();
    const before = await count();
    const [rejected, declined, withdrawn] = [
      await orders.placePending(user.token),
      await orders.placePending(user.token),
      await orders.placePending(user.token),
    ];
    for (let i = 0; i < 2; i++) await orders.deliver(sagaEvents.stockRejected(rejected));
    await orders.deliver(sagaEvents.paymentFailed(declined));
    const cancel = `/api/v1/orders/${withdrawn.id}/cancel`;
    expect((await orders.call('POST', cancel, { token: user.token })).status).toBe(200);
    const after = await count();
    expect(after.map((n, i) => n - (before[i] ?? 0))).toEqual([1, 1, 1]);
  });

  it('counts nothing for an event about an order it never had', async () => {
    const before = await value('orders_confirmed_total', { currency: 'USD' });
    const stranger = eventFixture('payment.succeeded', { orderId: crypto.randomUUID() });
    expect(await orders.deliver(stranger)).toBe('DROP');
    expect(await value('orders_confirmed_total', { currency: 'USD' })).toBe(before);
  });
}

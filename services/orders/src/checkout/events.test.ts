import { databaseBackends } from '@shop/devkit/testing';
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

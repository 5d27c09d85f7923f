import { randomUUID } from 'node:crypto';
import {
  eventFixture,
  type OrderView,
  paymentsOf,
  readJson,
  stockOf,
  type TimelineEntry,
  timelineOf,
} from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { deliverTwice, publish, quiesce } from './support/redeliver.ts';
import { sagaEventsOf } from './support/saga-events.ts';
import type { SagaShop } from './support/shop.ts';
import {
  countOf,
  expectEachOnce,
  idOf,
  settledOrder,
  stepsOf,
  succeeded,
} from './support/views.ts';

/**
 * Saga events delivered twice and out of order: real events published again with the same
 * CloudEvent id through the sidecar of the service that produced them, as a broker
 * redelivery would. No second charge, reservation, stock movement or transition.
 */
export function describeDuplicateDelivery(saga: SagaShop): void {
  describe('saga events delivered twice and out of order', () => {
    it('a confirmed order: every event again, newest first, changes nothing', async () => {
      await confirmedOrderAgain(saga);
    }, 90_000);

    it('a paid order cancelled by its customer: payment.succeeded, order.confirmed and stock.reserved after the cancellation, and the cancellation twice, change nothing', async () => {
      await cancelledOrderAgain(saga);
    }, 90_000);

    it('a declined order: its reservation and the decline again charge nothing and release once', async () => {
      await declinedOrderAgain(saga);
    }, 90_000);
  });
}

/** The saga's events of a settled order, as its timeline and payments show them now. */
async function eventsOf({ shop, adminToken, token }: SagaShop, order: OrderView) {
  const timeline = await timelineOf(shop, token, order.id);
  return sagaEventsOf(order, timeline, await paymentsOf(shop, adminToken, order.id));
}

/** Polls the product's stock until it matches. */
async function expectStock(saga: SagaShop, productId: string, stock: Record<string, number>) {
  await expect.poll(() => stockOf(saga.shop, saga.adminToken, productId)).toMatchObject(stock);
}

async function confirmedOrderAgain(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const { productId, order, settled } = await settledOrder(saga, {
    sku: 'SAGA-DUP',
    stock: 10,
    quantity: 2,
    paymentMethod: 'pm_card_visa',
  });
  expect(settled.status).toBe('confirmed');
  await expectStock(saga, productId, { available: 8, reserved: 0, sold: 2 });
  const events = await eventsOf(saga, order);

  // Out of order: the saga's events newest first, each twice with its own id.
  await deliverTwice(saga, [events.confirmed, events.paid(), events.reserved(), events.created]);
  // The same facts again under new ids (a producer that sent them twice): still no effect
  // beyond a timeline note, since an order moves, is charged and reserved only once.
  await publish(saga, { ...events.created, id: randomUUID() });
  await publish(saga, events.reserved(randomUUID()));
  await publish(saga, events.paid(randomUUID()));
  await quiesce(saga);

  expect(await readJson<OrderView>(shop, `/api/v1/orders/${order.id}`, token)).toMatchObject({
    status: 'confirmed',
  });
  const timeline = await timelineOf(shop, token, order.id);
  // Each original event id is on the timeline once; the one transition happened once.
  expectEachOnce(timeline, events.timeline);
  expect(countOf(timeline, 'confirmed')).toBe(1);
  expect(stepsOf(timeline)).not.toContain('cancelled');
  expect(await paymentsOf(shop, adminToken, order.id)).toEqual([
    expect.objectContaining({ kind: 'charge', status: 'succeeded', amount: order.total }),
  ]);
  expect(await stockOf(shop, adminToken, productId)).toMatchObject({
    available: 8,
    reserved: 0,
    sold: 2,
  });
}

/** Confirms an order of 3 out of 10, cancels it and waits for its refund and restock. */
async function cancelledAfterConfirmation(saga: SagaShop) {
  const { shop, token } = saga;
  const placed = await settledOrder(saga, {
    sku: 'SAGA-CANCEL',
    stock: 10,
    quantity: 3,
    paymentMethod: 'pm_card_visa',
  });
  expect(placed.settled.status).toBe('confirmed');
  await expectStock(saga, placed.productId, { available: 7, reserved: 0, sold: 3 });
  const cancel = await shop.send('POST', `/api/v1/orders/${placed.order.id}/cancel`, { token });
  expect(cancel.status).toBe(200);
  await expect
    .poll(async () => stepsOf(await timelineOf(shop, token, placed.order.id)), {
      timeout: 30_000,
    })
    .toContain('payment_refunded');
  await expectStock(saga, placed.productId, { available: 10, reserved: 0, sold: 0 });
  return placed;
}

async function cancelledOrderAgain(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const { productId, order } = await cancelledAfterConfirmation(saga);
  const events = await eventsOf(saga, order);

  // The whole paid path again after the cancellation, oldest first then newest first.
  const { created, confirmed, cancelled, refunded } = events;
  await deliverTwice(saga, [
    created,
    events.reserved(),
    events.paid(),
    confirmed,
    cancelled,
    refunded,
  ]);
  await deliverTwice(saga, [cancelled, confirmed, events.paid(), events.reserved()]);
  // A stock.reserved under a new id must not charge the cancelled order again.
  await publish(saga, events.reserved(randomUUID()));
  await publish(saga, events.paid(randomUUID()));
  await quiesce(saga);

  expect(await readJson<OrderView>(shop, `/api/v1/orders/${order.id}`, token)).toMatchObject({
    status: 'cancelled',
    cancelReason: 'customer_request',
  });
  const timeline = await timelineOf(shop, token, order.id);
  expectEachOnce(timeline, events.timeline);
  expect(countOf(timeline, 'confirmed')).toBe(1);
  expect(countOf(timeline, 'cancelled')).toBe(1);
  const payments = await paymentsOf(shop, adminToken, order.id);
  expect(payments).toHaveLength(2);
  expect(succeeded(payments, 'charge')).toHaveLength(1);
  expect(succeeded(payments, 'refund')).toEqual([expect.objectContaining({ amount: order.total })]);
  // Released once: not restocked twice, not committed again by the late order.confirmed.
  expect(await stockOf(shop, adminToken, productId)).toMatchObject({
    available: 10,
    reserved: 0,
    sold: 0,
  });
}

/** A declined order's payment.failed, order.cancelled and stock.reserved, original ids. */
function declinedEvents(order: OrderView, productId: string, timeline: TimelineEntry[]) {
  const at = new Date().toISOString();
  const failed = eventFixture(
    'payment.failed',
    { orderId: order.id, reason: 'card_declined', failedAt: at },
    { id: idOf(timeline, 'payment_failed') },
  );
  const cancelled = eventFixture(
    'order.cancelled',
    { orderId: order.id, userId: order.userId, reason: 'payment_declined', cancelledAt: at },
    { id: idOf(timeline, 'cancelled') },
  );
  const reserved = eventFixture(
    'stock.reserved',
    { orderId: order.id, items: [{ productId, quantity: 4 }], reservedAt: at },
    { id: idOf(timeline, 'stock_reserved') },
  );
  return { failed, cancelled, reserved };
}

async function declinedOrderAgain(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const { productId, order, settled } = await settledOrder(saga, {
    sku: 'SAGA-DECLINED',
    stock: 4,
    quantity: 4,
    paymentMethod: 'pm_card_chargeDeclined',
  });
  expect(settled).toMatchObject({ status: 'cancelled', cancelReason: 'payment_declined' });
  await expectStock(saga, productId, { available: 4, reserved: 0, sold: 0 });
  const timeline = await timelineOf(shop, token, order.id);
  const { failed, cancelled, reserved } = declinedEvents(order, productId, timeline);
  await deliverTwice(saga, [cancelled, failed, reserved]);
  await publish(saga, { ...failed, id: randomUUID() });
  await quiesce(saga);

  expect(await readJson<OrderView>(shop, `/api/v1/orders/${order.id}`, token)).toMatchObject({
    status: 'cancelled',
    cancelReason: 'payment_declined',
  });
  const payments = await paymentsOf(shop, adminToken, order.id);
  expect(payments).toEqual([expect.objectContaining({ kind: 'charge', status: 'failed' })]);
  expect(countOf(await timelineOf(shop, token, order.id), 'cancelled')).toBe(1);
  expect(await stockOf(shop, adminToken, productId)).toMatchObject({
    available: 4,
    reserved: 0,
    sold: 0,
  });
}

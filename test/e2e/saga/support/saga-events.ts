import {
  eventFixture,
  type OrderView,
  type PaymentView,
  type TimelineEntry,
} from '@shop/devkit/testing';
import { idOf, succeeded } from './views.ts';

/** What a settled order's saga events are rebuilt from. */
interface Settled {
  order: OrderView;
  timeline: TimelineEntry[];
  payments: PaymentView[];
  at: string;
}

/**
 * The saga's events of a settled order, rebuilt with their original ids from its timeline
 * (the ones its timeline lacks are undefined); `reserved` and `paid` take another id.
 */
export function sagaEventsOf(order: OrderView, timeline: TimelineEntry[], payments: PaymentView[]) {
  const settled: Settled = { order, timeline, payments, at: new Date().toISOString() };
  const has = (step: string) => timeline.some((e) => e.step === step);
  return {
    timeline,
    created: createdEvent(settled),
    reserved: (id = idOf(timeline, 'stock_reserved')) => reservedEvent(settled, id),
    paid: (id = idOf(timeline, 'payment_succeeded')) => paidEvent(settled, id),
    confirmed: has('confirmed') ? confirmedEvent(settled) : undefined,
    cancelled: has('cancelled') ? cancelledEvent(settled) : undefined,
    refunded: has('payment_refunded') ? refundedEvent(settled) : undefined,
  };
}

function createdEvent({ order, timeline }: Settled) {
  return eventFixture(
    'order.created',
    {
      orderId: order.id,
      userId: order.userId,
      items: order.items.map(({ productId, quantity, unitPrice }) => ({
        productId,
        quantity,
        unitPrice,
      })),
      total: order.total,
      currency: order.currency,
      paymentMethod: 'pm_card_visa',
      createdAt: order.createdAt,
    },
    { id: idOf(timeline, 'placed') },
  );
}

function reservedEvent({ order, at }: Settled, id: string) {
  const line = order.items.map(({ productId, quantity }) => ({ productId, quantity }));
  return eventFixture('stock.reserved', { orderId: order.id, items: line, reservedAt: at }, { id });
}

function paidEvent({ order, payments, at }: Settled, id: string) {
  const charge = succeeded(payments, 'charge')[0];
  return eventFixture(
    'payment.succeeded',
    {
      orderId: order.id,
      paymentId: charge?.id as string,
      amount: order.total,
      currency: order.currency,
      provider: 'test',
      providerRef: charge?.providerRef as string,
      succeededAt: at,
    },
    { id },
  );
}

function confirmedEvent({ order, timeline, at }: Settled) {
  return eventFixture(
    'order.confirmed',
    {
      orderId: order.id,
      userId: order.userId,
      total: order.total,
      currency: order.currency,
      confirmedAt: at,
    },
    { id: idOf(timeline, 'confirmed') },
  );
}

function cancelledEvent({ order, timeline, at }: Settled) {
  return eventFixture(
    'order.cancelled',
    { orderId: order.id, userId: order.userId, reason: 'customer_request', cancelledAt: at },
    { id: idOf(timeline, 'cancelled') },
  );
}

function refundedEvent({ order, timeline, payments, at }: Settled) {
  const charge = succeeded(payments, 'charge')[0];
  const refund = succeeded(payments, 'refund')[0];
  if (!charge || !refund) return undefined;
  return eventFixture(
    'payment.refunded',
    {
      orderId: order.id,
      paymentId: charge.id,
      refundId: refund.id,
      amount: refund.amount,
      currency: refund.currency,
      refundedAt: at,
    },
    { id: idOf(timeline, 'payment_refunded') },
  );
}

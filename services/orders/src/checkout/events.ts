import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { handleEventOnce } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import { appendTimeline, findOrder } from '../orders/repository.ts';
import type { TimelineStep } from '../orders/schemas.ts';
import type { OrdersDeps } from '../orders/service.ts';
import { cancelOrder, confirmOrder, type Settlement } from '../orders/transitions.ts';
import type { OrdersTables } from '../tables.ts';

/** The saga's answers about an order, with the versions orders reads. */
export const checkoutConsumes = {
  'stock.reserved': [1],
  'stock.rejected': [1],
  'payment.succeeded': [1],
  'payment.failed': [1],
  'payment.refunded': [1],
} as const satisfies ConsumedEvents;

/** The receipt name under which each event id takes effect once. */
const consumer = 'orders.checkout';

class UnknownOrder extends Error {}

type SagaEvent = { id: string; type: string; time: string; data: { orderId: string } };

/**
 * Records the event as a step of its order and, when given, tries the transition it asks
 * for, all with the event's receipt in one transaction. A transition that does not apply
 * (the order moved on: a late, repeated or out-of-order event) changes nothing but the
 * timeline. An event about an order this service never had is dropped to the dead letters.
 */
async function react(
  deps: OrdersDeps,
  event: SagaEvent,
  step: { name: TimelineStep; detail?: string },
  transition?: (
    trx: Transaction<OrdersTables>,
    orderId: string,
    at: Date,
  ) => Promise<Settlement | undefined>,
): Promise<'SUCCESS' | 'DROP'> {
  const { orderId } = event.data;
  let moved: Settlement | undefined;
  try {
    await handleEventOnce(deps.db, { consumer, eventId: event.id }, async (trx) => {
      if (!(await findOrder(trx, orderId))) throw new UnknownOrder();
      await appendTimeline(trx, orderId, {
        step: step.name,
        eventId: event.id,
        ...(step.detail ? { detail: step.detail } : {}),
        at: new Date(event.time),
      });
      moved = transition ? await transition(trx, orderId, new Date()) : undefined;
    });
  } catch (error) {
    if (!(error instanceof UnknownOrder)) throw error;
    deps.logger.warn('event about an unknown order; dead-lettered', {
      eventId: event.id,
      type: event.type,
      orderId,
    });
    return 'DROP';
  }
  if (moved) {
    deps.metrics.settled(moved);
    deps.outbox.wake();
  } else if (transition) {
    deps.logger.info('order no longer pending; event recorded only', {
      eventId: event.id,
      type: event.type,
      orderId,
    });
  }
  return 'SUCCESS';
}

export function checkoutEventHandlers(deps: OrdersDeps): EventHandlers<typeof checkoutConsumes> {
  return {
    'stock.reserved': (event) => react(deps, event, { name: 'stock_reserved' }),
    'stock.rejected': (event) =>
      react(deps, event, { name: 'stock_rejected' }, (trx, id, at) =>
        cancelOrder(trx, id, 'out_of_stock', at),
      ),
    // Only a pending order is confirmed. One cancelled meanwhile stays cancelled: payments
    // refunds the charge itself when it sees order.cancelled.
    'payment.succeeded': (event) =>
      react(deps, event, { name: 'payment_succeeded' }, (trx, id, at) => confirmOrder(trx, id, at)),
    'payment.failed': (event) =>
      react(deps, event, { name: 'payment_failed', detail: event.data.reason }, (trx, id, at) =>
        cancelOrder(trx, id, 'payment_declined', at),
      ),
    'payment.refunded': (event) => react(deps, event, { name: 'payment_refunded' }),
  };
}

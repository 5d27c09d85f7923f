import { buildEvent } from '@shop/platform';
import { enqueueEvent } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import type { OrdersTables } from '../tables.ts';
import { appendTimeline, listTimeline, type TimelineEntry, transitionOrder } from './repository.ts';
import type { CancelReason, OrderStatus } from './schemas.ts';

type Trx = Transaction<OrdersTables>;

/** A move that happened, with what its metrics need once the transaction commits. */
export type Settlement =
  | { status: 'confirmed'; total: number; currency: string; timeline: TimelineEntry[] }
  | { status: 'cancelled'; reason: CancelReason };

/**
 * The order state machine: `pending` → `confirmed` | `cancelled`, and a customer may cancel
 * a confirmed order too. Each move is a conditional UPDATE plus its timeline step and its
 * event in the outbox, all in the caller's transaction; undefined when the order was not in
 * a state the move starts from, and then nothing is written.
 */
export async function confirmOrder(
  trx: Trx,
  orderId: string,
  at: Date,
): Promise<Settlement | undefined> {
  const moved = await transitionOrder(trx, orderId, { from: ['pending'], to: 'confirmed', at });
  if (!moved) return undefined;
  const event = buildEvent(
    'order.confirmed',
    {
      orderId,
      userId: moved.userId,
      total: moved.total,
      currency: moved.currency,
      confirmedAt: at.toISOString(),
    },
    { source: serviceName, time: at },
  );
  await appendTimeline(trx, orderId, { step: 'confirmed', eventId: event.id, at });
  await enqueueEvent(trx, event);
  const { total, currency } = moved;
  return { status: 'confirmed', total, currency, timeline: await listTimeline(trx, orderId) };
}

/** Which states each kind of cancellation may start from. */
const cancellableFrom: Record<CancelReason, readonly OrderStatus[]> = {
  out_of_stock: ['pending'],
  payment_declined: ['pending'],
  expired: ['pending'],
  // A paid order too: payments refunds it and inventory returns its stock on order.cancelled.
  customer_request: ['pending', 'confirmed'],
};

export async function cancelOrder(
  trx: Trx,
  orderId: string,
  reason: CancelReason,
  at: Date,
): Promise<Settlement | undefined> {
  const moved = await transitionOrder(trx, orderId, {
    from: cancellableFrom[reason],
    to: 'cancelled',
    cancelReason: reason,
    at,
  });
  if (!moved) return undefined;
  const event = buildEvent(
    'order.cancelled',
    { orderId, userId: moved.userId, reason, cancelledAt: at.toISOString() },
    { source: serviceName, time: at },
  );
  await appendTimeline(trx, orderId, { step: 'cancelled', eventId: event.id, detail: reason, at });
  await enqueueEvent(trx, event);
  return { status: 'cancelled', reason };
}

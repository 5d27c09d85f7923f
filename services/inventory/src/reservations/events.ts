import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { handleEventOnce } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import type { StockDeps } from '../stock/service.ts';
import type { InventoryTables } from '../tables.ts';
import type { ReservationMetrics } from './metrics.ts';
import { commitOrder, releaseOrder, reserveOrder } from './service.ts';

/** The checkout saga's events: reserve on creation, commit on confirmation, release on cancellation. */
export const reservationConsumes = {
  'order.created': [1],
  'order.confirmed': [1],
  'order.cancelled': [1],
} as const satisfies ConsumedEvents;

/**
 * Applies `step` once per event id (its receipt commits with its effect), wakes the outbox
 * for what it published, and logs what happened to the order.
 */
async function once(
  deps: StockDeps,
  consumer: string,
  event: { id: string; data: { orderId: string } },
  step: (trx: Transaction<InventoryTables>, at: Date) => Promise<string>,
): Promise<'SUCCESS'> {
  let outcome = 'duplicate event';
  await handleEventOnce(deps.db, { consumer, eventId: event.id }, async (trx) => {
    outcome = await step(trx, new Date());
  });
  deps.outbox.wake();
  deps.logger.info('order stock handled', {
    orderId: event.data.orderId,
    eventId: event.id,
    outcome,
  });
  return 'SUCCESS';
}

export type ReservationDeps = StockDeps & { metrics: ReservationMetrics };

const causeOf = (event: { id: string; data: { orderId: string } }) => ({
  eventId: event.id,
  orderId: event.data.orderId,
});

/** Reserves the order's lines once, counting the decision after it committed. */
async function reserve(
  deps: ReservationDeps,
  event: { id: string; data: Parameters<typeof reserveOrder>[1] & { orderId: string } },
): Promise<'SUCCESS'> {
  // A property, not a variable: what the callback sets is then seen after it.
  const decision: { outcome?: Awaited<ReturnType<typeof reserveOrder>> } = {};
  const delivery = await once(deps, 'inventory.reserve-stock', event, async (trx, at) => {
    decision.outcome = await reserveOrder(trx, event.data, causeOf(event), at);
    return decision.outcome;
  });
  const { outcome } = decision;
  if (outcome === 'reserved' || outcome === 'rejected') deps.metrics.decided(outcome);
  return delivery;
}

export function reservationEventHandlers(
  deps: ReservationDeps,
): EventHandlers<typeof reservationConsumes> {
  return {
    'order.created': (event) => reserve(deps, event),
    'order.confirmed': (event) =>
      once(deps, 'inventory.commit-stock', event, (trx, at) =>
        commitOrder(trx, causeOf(event), at),
      ),
    'order.cancelled': (event) =>
      once(deps, 'inventory.release-stock', event, (trx, at) =>
        releaseOrder(trx, causeOf(event), at),
      ),
  };
}

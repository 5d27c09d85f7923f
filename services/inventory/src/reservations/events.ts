import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { handleEventOnce } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import type { StockDeps } from '../stock/service.ts';
import type { InventoryTables } from '../tables.ts';
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

export function reservationEventHandlers(
  deps: StockDeps,
): EventHandlers<typeof reservationConsumes> {
  const causeOf = (event: { id: string; data: { orderId: string } }) => ({
    eventId: event.id,
    orderId: event.data.orderId,
  });
  return {
    'order.created': (event) =>
      once(deps, 'inventory.reserve-stock', event, (trx, at) =>
        reserveOrder(trx, event.data, causeOf(event), at),
      ),
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

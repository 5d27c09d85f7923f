import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import {
  type ReservationDeps,
  reservationConsumes,
  reservationEventHandlers,
} from './reservations/events.ts';
import { stockConsumes, stockEventHandlers } from './stock/events.ts';

/**
 * Every event inventory consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = {
  ...stockConsumes,
  ...reservationConsumes,
} as const satisfies ConsumedEvents;

export function inventoryEvents(deps: ReservationDeps) {
  return defineConsumer({
    consumes,
    handlers: { ...stockEventHandlers(deps), ...reservationEventHandlers(deps) },
  });
}

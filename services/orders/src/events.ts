import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { checkoutConsumes, checkoutEventHandlers } from './checkout/events.ts';
import type { OrdersDeps } from './orders/service.ts';

/**
 * Every event orders consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = { ...checkoutConsumes } as const satisfies ConsumedEvents;

export function ordersEvents(deps: OrdersDeps) {
  return defineConsumer({ consumes, handlers: { ...checkoutEventHandlers(deps) } });
}

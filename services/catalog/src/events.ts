import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { type ProductEventDeps, productConsumes, productEventHandlers } from './products/events.ts';
import { wishlistConsumes, wishlistEventHandlers } from './wishlist/events.ts';

/**
 * Every event catalog consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = {
  ...productConsumes,
  ...wishlistConsumes,
} as const satisfies ConsumedEvents;

export function catalogEvents(deps: ProductEventDeps) {
  return defineConsumer({
    consumes,
    handlers: { ...productEventHandlers(deps), ...wishlistEventHandlers(deps) },
  });
}

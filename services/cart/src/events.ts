import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { cartConsumes, cartEventHandlers } from './cart/events.ts';
import type { CartStore } from './cart/repository.ts';

/**
 * Every event cart consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = { ...cartConsumes } as const satisfies ConsumedEvents;

export function cartEvents(deps: { store: CartStore }) {
  return defineConsumer({ consumes, handlers: { ...cartEventHandlers(deps) } });
}

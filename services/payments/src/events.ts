import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { paymentEventHandlers, paymentsConsumes } from './payments/events.ts';
import type { PaymentsDeps } from './payments/service.ts';

/**
 * Every event payments consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = { ...paymentsConsumes } as const satisfies ConsumedEvents;

export function paymentsEvents(deps: PaymentsDeps) {
  return defineConsumer({ consumes, handlers: { ...paymentEventHandlers(deps) } });
}

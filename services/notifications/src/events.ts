import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { type InboxEventDeps, inboxConsumes, inboxEventHandlers } from './inbox/events.ts';

/**
 * Every event notifications consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = { ...inboxConsumes } as const satisfies ConsumedEvents;

export function notificationsEvents(deps: InboxEventDeps) {
  return defineConsumer({ consumes, handlers: { ...inboxEventHandlers(deps) } });
}

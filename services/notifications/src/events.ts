import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import { accountAlertConsumes, accountAlertHandlers } from './account-alerts/events.ts';
import { accountErasureConsumes, accountErasureHandlers } from './account-erasure/events.ts';
import { accountLinkConsumes, accountLinkHandlers } from './account-links/events.ts';
import { orderUpdateConsumes, orderUpdateHandlers } from './order-updates/events.ts';
import { streamConsumes, streamHandlers } from './stream/events.ts';
import { welcomeConsumes, welcomeHandlers } from './welcome/events.ts';
import {
  type WishlistAlertDeps,
  wishlistAlertConsumes,
  wishlistAlertHandlers,
} from './wishlist-alerts/events.ts';

/**
 * Every event notifications consumes, gathered from its features. Free of side effects:
 * `npm run subscriptions` imports it to write this app's Dapr subscriptions.
 */
export const consumes = {
  ...welcomeConsumes,
  ...orderUpdateConsumes,
  ...wishlistAlertConsumes,
  ...streamConsumes,
  ...accountAlertConsumes,
  ...accountLinkConsumes,
  ...accountErasureConsumes,
} as const satisfies ConsumedEvents;

export function notificationsEvents(deps: WishlistAlertDeps & { publicUrl: string }) {
  return defineConsumer({
    consumes,
    handlers: {
      ...welcomeHandlers(deps),
      ...orderUpdateHandlers(deps),
      ...wishlistAlertHandlers(deps),
      ...streamHandlers(deps),
      ...accountAlertHandlers(deps),
      ...accountLinkHandlers(deps),
      ...accountErasureHandlers(deps),
    },
  });
}

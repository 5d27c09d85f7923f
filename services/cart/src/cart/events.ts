import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { endCheckout, hasPendingCheckout, type OrderOutcome } from './document.ts';
import { type CartStore, eraseCart, readCart, updateCart } from './repository.ts';

/** The orders' ends that settle a checkout's fate, and the accounts that go away. */
export const cartConsumes = {
  'order.cancelled': [1],
  'order.confirmed': [1],
  'user.deleted': [1],
} as const satisfies ConsumedEvents;

// Only these leave the shopper wanting the same things: the lines go back into the cart.
const restoringReasons = new Set(['out_of_stock', 'payment_declined']);

/**
 * Ends the checkout that placed `orderId`, if this user's cart has it. An order the cart
 * does not know while one of its checkouts still waits for orders' answer may be that one's,
 * its 202 not yet recorded: retried, until the checkout is settled or taken as lost.
 */
async function orderEnded(
  store: CartStore,
  userId: string,
  orderId: string,
  outcome: OrderOutcome,
) {
  const doc = await readCart(store, userId);
  const known = doc.checkouts.some((c) => c.orderId === orderId);
  if (!known) return hasPendingCheckout(doc, store.now()) ? 'RETRY' : 'SUCCESS';
  await updateCart(store, userId, (current) => endCheckout(current, orderId, outcome));
  return 'SUCCESS';
}

export function cartEventHandlers(deps: { store: CartStore }): EventHandlers<typeof cartConsumes> {
  const { store } = deps;
  return {
    'order.cancelled': async ({ data }) =>
      orderEnded(
        store,
        data.userId,
        data.orderId,
        restoringReasons.has(data.reason) ? 'restore' : 'forget',
      ),
    'order.confirmed': async ({ data }) => orderEnded(store, data.userId, data.orderId, 'forget'),
    'user.deleted': async ({ data }) => {
      await eraseCart(store, data.userId);
      return 'SUCCESS';
    },
  };
}

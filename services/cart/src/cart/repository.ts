import type { Logger } from '@shop/platform';
import { deleteEntry, readEntry, type StateSettings, updateEntry } from '../state/entries.ts';
import { type CartDocument, cartDocument, emptyCart, pruneCheckouts } from './document.ts';

/** Where the carts are kept, and the clock that dates their checkouts. */
export type CartStore = StateSettings & { logger: Logger; now: () => Date };

/** One key per user: the whole cart, its version and its checkouts, under one ETag. */
const keyOf = (userId: string) => `cart:${userId}`;

function parserFor(store: CartStore, userId: string) {
  return (stored: unknown): CartDocument => {
    if (stored === undefined) return emptyCart();
    const parsed = cartDocument.safeParse(stored);
    if (parsed.success) return parsed.data;
    // Only this service writes it; should it ever be unreadable, an empty cart written
    // over it (under its ETag) is better than a cart nobody can use again.
    store.logger.error('unreadable cart in the state store; taken as empty', { userId });
    return emptyCart();
  };
}

export async function readCart(store: CartStore, userId: string): Promise<CartDocument> {
  return (await readEntry(store, keyOf(userId), parserFor(store, userId))).value;
}

/**
 * Changes a user's cart under its ETag, retried on conflict (see updateEntry); every write
 * also drops the checkouts past their day and renews the cart's TTL.
 */
export function updateCart(
  store: CartStore,
  userId: string,
  change: (doc: CartDocument) => CartDocument | undefined,
): Promise<CartDocument> {
  return updateEntry(store, keyOf(userId), parserFor(store, userId), (doc) => {
    const next = change(doc);
    return next && pruneCheckouts(next, store.now());
  });
}

/** The cart and its checkout records, gone at once (one key). */
export function eraseCart(store: CartStore, userId: string): Promise<void> {
  return deleteEntry(store, keyOf(userId));
}

import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import type { Kysely } from 'kysely';
import type { CatalogTables } from '../tables.ts';
import { eraseWishlist } from './repository.ts';

/** The users service's event that an account is gone: its wishlist goes with it. */
export const wishlistConsumes = { 'user.deleted': [1] } as const satisfies ConsumedEvents;

export type WishlistEventDeps = { db: Kysely<CatalogTables>; logger: Logger };

/**
 * The wishlist is all catalog keeps per user. Idempotent without a record of the event:
 * a redelivery finds no rows left.
 */
export function wishlistEventHandlers(
  deps: WishlistEventDeps,
): EventHandlers<typeof wishlistConsumes> {
  return {
    'user.deleted': async (event) => {
      const { userId } = event.data;
      const erased = await eraseWishlist(deps.db, userId);
      deps.logger.info('wishlist of a deleted user erased', { userId, erased });
      return 'SUCCESS';
    },
  };
}

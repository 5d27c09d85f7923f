import type { Kysely } from 'kysely';
import { type Product, productColumns, toProduct } from '../products/repository.ts';
import type { CatalogTables } from '../tables.ts';

type Db = Kysely<CatalogTables>;

/**
 * Adds a live product to the user's wishlist; adding it again changes nothing. The insert
 * selects from the live product, so a product deleted at the same moment is never added.
 */
export async function addToWishlist(
  db: Db,
  userId: string,
  productId: string,
  addedAt: Date,
): Promise<'added' | 'no_such_product'> {
  const live = await db
    .insertInto('wishlist_items')
    .columns(['user_id', 'product_id', 'added_at'])
    .expression((eb) =>
      eb
        .selectFrom('products')
        .select((e) => [e.val(userId).as('user_id'), 'id', e.val(addedAt).as('added_at')])
        .where('id', '=', productId)
        .where('deleted_at', 'is', null),
    )
    .onConflict((oc) => oc.columns(['user_id', 'product_id']).doNothing())
    .returning('product_id')
    .executeTakeFirst();
  if (live) return 'added';
  // Nothing inserted: either it was already there, or there is no live product.
  const present = await db
    .selectFrom('wishlist_items')
    .innerJoin('products', 'products.id', 'wishlist_items.product_id')
    .select('product_id')
    .where('user_id', '=', userId)
    .where('product_id', '=', productId)
    .where('products.deleted_at', 'is', null)
    .executeTakeFirst();
  return present ? 'added' : 'no_such_product';
}

export async function removeFromWishlist(db: Db, userId: string, productId: string): Promise<void> {
  await db
    .deleteFrom('wishlist_items')
    .where('user_id', '=', userId)
    .where('product_id', '=', productId)
    .execute();
}

/** The user's wished-for live products, most recently added first. */
export async function listWishlist(db: Db, userId: string): Promise<Product[]> {
  const rows = await db
    .selectFrom('wishlist_items')
    .innerJoin('products', 'products.id', 'wishlist_items.product_id')
    .select(productColumns.map((column) => `products.${column}` as const))
    .where('wishlist_items.user_id', '=', userId)
    .where('products.deleted_at', 'is', null)
    .orderBy('wishlist_items.added_at', 'desc')
    .orderBy('products.id')
    .execute();
  return rows.map(toProduct);
}

/**
 * One page of the users with this live product on their wishlist, by user id, starting
 * after `afterUserId`; one more than `limit` tells whether another page follows.
 */
export async function listWishlisters(
  db: Db,
  productId: string,
  page: { afterUserId: string | undefined; limit: number },
): Promise<string[]> {
  let query = db
    .selectFrom('wishlist_items')
    .innerJoin('products', 'products.id', 'wishlist_items.product_id')
    .select('wishlist_items.user_id')
    .where('wishlist_items.product_id', '=', productId)
    .where('products.deleted_at', 'is', null);
  if (page.afterUserId !== undefined) {
    query = query.where('wishlist_items.user_id', '>', page.afterUserId);
  }
  const rows = await query.orderBy('wishlist_items.user_id').limit(page.limit).execute();
  return rows.map((row) => row.user_id);
}

/** Deletes every wishlist row of the user (user.deleted); answers how many there were. */
export async function eraseWishlist(db: Db, userId: string): Promise<number> {
  const result = await db
    .deleteFrom('wishlist_items')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

import { createRoute, z } from '@hono/zod-openapi';
import {
  AppError,
  bearerSecurity,
  createRouter,
  decodeCursor,
  encodeCursor,
  keysetPage,
  pageOf,
  pageQuery,
  problemResponses,
  requireCaller,
  singleLineText,
} from '@shop/platform';
import type { Kysely } from 'kysely';
import { product, productId } from '../products/schemas.ts';
import { toProductView } from '../products/service.ts';
import type { CatalogTables } from '../tables.ts';
import { addToWishlist, listWishlist, listWishlisters, removeFromWishlist } from './repository.ts';

const productParams = z.object({
  productId: productId.openapi({ param: { name: 'productId', in: 'path' } }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  responses: {
    200: {
      description: 'the caller’s wishlist, most recently added first',
      content: {
        'application/json': { schema: z.object({ items: z.array(product) }).openapi('Wishlist') },
      },
    },
    ...problemResponses(401, 403),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/{productId}',
  security: bearerSecurity,
  request: { params: productParams },
  responses: {
    204: { description: 'on the wishlist (also when it already was)' },
    ...problemResponses(400, 401, 403, 404),
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/{productId}',
  security: bearerSecurity,
  request: { params: productParams },
  responses: {
    204: { description: 'not on the wishlist (also when it never was)' },
    ...problemResponses(400, 401, 403),
  },
});

/** Mounted at /api/v1/wishlist behind authenticate(): each user has their own. */
export function wishlistRoutes(deps: { db: Kysely<CatalogTables> }) {
  return createRouter()
    .openapi(listRoute, async (c) => {
      const items = await listWishlist(deps.db, c.get('user').id);
      return c.json({ items: items.map(toProductView) }, 200);
    })
    .openapi(putRoute, async (c) => {
      const { productId: id } = c.req.valid('param');
      const outcome = await addToWishlist(deps.db, c.get('user').id, id, new Date());
      if (outcome === 'no_such_product') throw new AppError('not_found', 'no such product');
      return c.body(null, 204);
    })
    .openapi(deleteRoute, async (c) => {
      await removeFromWishlist(deps.db, c.get('user').id, c.req.valid('param').productId);
      return c.body(null, 204);
    });
}

const wishlistersRoute = createRoute({
  method: 'get',
  path: '/products/{id}/wishlisters',
  description:
    'The users with a product on their wishlist, a page at a time, for notifications (price drops, back in stock), through Dapr only.',
  middleware: [requireCaller('notifications')],
  request: {
    params: z.object({ id: productId.openapi({ param: { name: 'id', in: 'path' } }) }),
    query: pageQuery,
  },
  responses: {
    200: {
      description: 'a page of wishlisters by user id; none for an unknown or deleted product',
      content: {
        'application/json': {
          schema: pageOf(z.object({ userId: z.string() })).openapi('WishlistersPage'),
        },
      },
    },
    ...problemResponses(400, 403),
  },
});

const wishlisterPosition = z.object({ userId: singleLineText().min(1).max(200) });

/** Mounted at /internal: Dapr callers only, never forwarded by the gateway. */
export function internalWishlistRoutes(deps: { db: Kysely<CatalogTables> }) {
  return createRouter().openapi(wishlistersRoute, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    const after = cursor ? decodeCursor(cursor, wishlisterPosition) : undefined;
    const { rows, nextCursor } = await keysetPage(
      limit,
      (readLimit) =>
        listWishlisters(deps.db, c.req.valid('param').id, {
          afterUserId: after?.userId,
          limit: readLimit,
        }),
      (last) => encodeCursor({ userId: last }),
    );
    return c.json({ items: rows.map((userId) => ({ userId })), nextCursor }, 200);
  });
}

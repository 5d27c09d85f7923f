import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import {
  cartView,
  checkoutBody,
  idempotencyKeyHeaders,
  placedOrder,
  productParams,
  quantityBody,
} from './schemas.ts';
import {
  type CartDeps,
  checkoutCart,
  emptyCart,
  removeItem,
  setItem,
  showCart,
} from './service.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const cartAnswer = {
  description: 'the caller’s cart, priced and stocked as the catalog says now',
  content: json(cartView),
};

const showRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  responses: { 200: cartAnswer, ...problemResponses(401, 403, 503) },
});

const clearRoute = createRoute({
  method: 'delete',
  path: '/',
  security: bearerSecurity,
  responses: { 204: { description: 'the cart is empty' }, ...problemResponses(401, 403, 409, 503) },
});

const setItemRoute = createRoute({
  method: 'put',
  path: '/items/{productId}',
  security: bearerSecurity,
  request: { params: productParams, body: { required: true, content: json(quantityBody) } },
  // 404: no such product; 409: the cart holds its maximum of products already.
  responses: { 200: cartAnswer, ...problemResponses(400, 401, 403, 404, 409, 413, 503) },
});

const removeItemRoute = createRoute({
  method: 'delete',
  path: '/items/{productId}',
  security: bearerSecurity,
  request: { params: productParams },
  responses: { 200: cartAnswer, ...problemResponses(400, 401, 403, 409, 503) },
});

const checkoutRoute = createRoute({
  method: 'post',
  path: '/checkout',
  security: bearerSecurity,
  request: {
    headers: idempotencyKeyHeaders,
    body: { required: true, content: json(checkoutBody) },
  },
  responses: {
    202: {
      description:
        'exactly what POST /api/v1/orders answered for the cart’s lines: the order, pending; a repeat of the key gets the same answer and leaves the cart alone',
      headers: z.object({
        Location: z.string().openapi({ description: 'the order' }),
        'Idempotent-Replayed': z.enum(['true']).optional(),
      }),
      content: json(placedOrder),
    },
    // 409: the cart is empty, or orders has a request with this key in flight; 422, 503
    // and the rest: as orders answered.
    ...problemResponses(400, 401, 403, 409, 413, 422, 503),
  },
});

/** Mounted at /api/v1/cart behind authenticate(): each user has one cart. */
export function cartRoutes(deps: CartDeps) {
  return createRouter()
    .openapi(showRoute, async (c) => c.json(await showCart(deps, c.get('user').id), 200))
    .openapi(clearRoute, async (c) => {
      await emptyCart(deps, c.get('user').id);
      return c.body(null, 204);
    })
    .openapi(setItemRoute, async (c) => {
      const { productId } = c.req.valid('param');
      const { quantity } = c.req.valid('json');
      return c.json(await setItem(deps, c.get('user').id, productId, quantity), 200);
    })
    .openapi(removeItemRoute, async (c) => {
      const { productId } = c.req.valid('param');
      return c.json(await removeItem(deps, c.get('user').id, productId), 200);
    })
    .openapi(checkoutRoute, async (c) => {
      const answer = await checkoutCart(deps, {
        userId: c.get('user').id,
        authorization: c.req.header('authorization') ?? '',
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        paymentMethod: c.req.valid('json').paymentMethod,
      });
      // Handed on as orders gave it (its status, body and headers), not re-rendered.
      return new Response(answer.body, { status: answer.status, headers: answer.headers }) as never;
    });
}

import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import { ifMatchHeader, productIdParam, stockLevel, stockUpdate } from './schemas.ts';
import { entityTag, getStockLevel, type StockDeps, setAvailable } from './service.ts';

const withEntityTag = {
  description: 'the product’s stock; `ETag` is its version',
  headers: z.object({ ETag: z.string().openapi({ example: '"3"' }) }),
  content: { 'application/json': { schema: stockLevel } },
};

const getStockRoute = createRoute({
  method: 'get',
  path: '/{id}/stock',
  security: bearerSecurity,
  request: { params: productIdParam },
  responses: { 200: withEntityTag, ...problemResponses(400, 401, 403, 404) },
});

const setStockRoute = createRoute({
  method: 'put',
  path: '/{id}/stock',
  security: bearerSecurity,
  request: {
    params: productIdParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: stockUpdate } } },
  },
  responses: {
    200: withEntityTag,
    // 409: the product has been deleted.
    ...problemResponses(400, 401, 403, 404, 409, 412, 413),
  },
});

/** Mounted at /api/v1/products behind authenticate() and requireRole('admin'). */
export function stockRoutes(deps: StockDeps) {
  return createRouter()
    .openapi(getStockRoute, async (c) => {
      const level = await getStockLevel(deps, c.req.valid('param').id);
      c.header('ETag', entityTag(level.version));
      return c.json(level, 200);
    })
    .openapi(setStockRoute, async (c) => {
      const level = await setAvailable(deps, {
        productId: c.req.valid('param').id,
        available: c.req.valid('json').available,
        ifMatch: c.req.valid('header')['if-match'],
        actor: c.get('user').id,
      });
      c.header('ETag', entityTag(level.version));
      return c.json(level, 200);
    });
}

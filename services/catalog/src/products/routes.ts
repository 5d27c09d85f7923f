import { createRoute, z } from '@hono/zod-openapi';
import {
  bearerSecurity,
  createRouter,
  pageOf,
  problemResponses,
  requireCaller,
} from '@shop/platform';
import { authenticate, requireRole, type TokenVerifier } from '@shop/platform/auth';
import {
  newProduct,
  product,
  productBatch,
  productBatchRequest,
  productChanges,
  productId,
  productQuery,
} from './schemas.ts';
import {
  createProduct,
  deleteProduct,
  etagOf,
  getProduct,
  listProducts,
  matchesIfNoneMatch,
  type ProductsDeps,
  readProductBatch,
  updateProduct,
} from './service.ts';

const idParams = z.object({ id: productId.openapi({ param: { name: 'id', in: 'path' } }) });
const etagHeader = z.object({
  ETag: z
    .string()
    .openapi({ description: 'the product’s current version, for If-Match and If-None-Match' }),
});
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const listRoute = createRoute({
  method: 'get',
  path: '/',
  request: { query: productQuery },
  responses: {
    200: { description: 'a page of products', content: json(pageOf(product)) },
    ...problemResponses(400, 403),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  request: {
    params: idParams,
    headers: z.object({ 'if-none-match': z.string().max(1_000).optional() }),
  },
  responses: {
    200: { description: 'the product', headers: etagHeader, content: json(product) },
    304: { description: 'unchanged since the ETag in If-None-Match', headers: etagHeader },
    ...problemResponses(400, 403, 404),
  },
});

/** The admin's routes: declared per app, since their middleware checks its verifier's tokens. */
function adminRoutes(verifier: Pick<TokenVerifier, 'verify'>) {
  const adminOnly = [authenticate(verifier), requireRole('admin')] as const;
  const adminProblems = problemResponses(400, 401, 403, 404, 412, 413, 422);

  const createProductRoute = createRoute({
    method: 'post',
    path: '/',
    security: bearerSecurity,
    middleware: [...adminOnly],
    request: { body: { required: true, content: json(newProduct) } },
    responses: {
      201: {
        description: 'the new product',
        headers: etagHeader.extend({ Location: z.string() }),
        content: json(product),
      },
      ...problemResponses(400, 401, 403, 409, 413, 422),
    },
  });

  const patchRoute = createRoute({
    method: 'patch',
    path: '/{id}',
    security: bearerSecurity,
    middleware: [...adminOnly],
    request: {
      params: idParams,
      headers: z.object({ 'if-match': z.string().max(1_000).optional() }),
      body: { required: true, content: json(productChanges) },
    },
    responses: {
      200: { description: 'the product as changed', headers: etagHeader, content: json(product) },
      ...adminProblems,
    },
  });

  const deleteRoute = createRoute({
    method: 'delete',
    path: '/{id}',
    security: bearerSecurity,
    middleware: [...adminOnly],
    request: { params: idParams },
    responses: {
      204: { description: 'deleted: readers get 404 from now on; orders keep their snapshot' },
      ...problemResponses(400, 401, 403, 404),
    },
  });
  return { createProductRoute, patchRoute, deleteRoute };
}

export function productsRoutes(deps: ProductsDeps & { verifier: Pick<TokenVerifier, 'verify'> }) {
  const { createProductRoute, patchRoute, deleteRoute } = adminRoutes(deps.verifier);
  return createRouter()
    .openapi(listRoute, async (c) => c.json(await listProducts(deps, c.req.valid('query')), 200))
    .openapi(getRoute, async (c) => {
      const { product: found, version } = await getProduct(deps, c.req.valid('param').id);
      c.header('ETag', etagOf(version));
      const ifNoneMatch = c.req.valid('header')['if-none-match'];
      if (ifNoneMatch !== undefined && matchesIfNoneMatch(ifNoneMatch, version)) {
        return c.body(null, 304);
      }
      return c.json(found, 200);
    })
    .openapi(createProductRoute, async (c) => {
      const created = await createProduct(deps, c.req.valid('json'));
      c.header('ETag', etagOf(created.version));
      c.header('Location', `/api/v1/products/${created.product.id}`);
      return c.json(created.product, 201);
    })
    .openapi(patchRoute, async (c) => {
      const updated = await updateProduct(
        deps,
        c.req.valid('param').id,
        c.req.valid('json'),
        c.req.valid('header')['if-match'],
      );
      c.header('ETag', etagOf(updated.version));
      return c.json(updated.product, 200);
    })
    .openapi(deleteRoute, async (c) => {
      await deleteProduct(deps, c.req.valid('param').id);
      return c.body(null, 204);
    });
}

const batchRoute = createRoute({
  method: 'post',
  path: '/products/batch',
  description:
    'Products by id for other services (orders, the cart, the gateway), through Dapr only.',
  middleware: [requireCaller('orders', 'cart', 'gateway')],
  request: { body: { required: true, content: json(productBatchRequest) } },
  responses: {
    200: {
      description: 'the live products among the ids, and the rest',
      content: json(productBatch),
    },
    ...problemResponses(400, 403, 413),
  },
});

/** Mounted at /internal: Dapr callers only, never forwarded by the gateway. */
export function internalProductRoutes(deps: Pick<ProductsDeps, 'db'>) {
  return createRouter().openapi(batchRoute, async (c) =>
    c.json(await readProductBatch(deps, c.req.valid('json').ids), 200),
  );
}

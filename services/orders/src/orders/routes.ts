import { createRoute, z } from '@hono/zod-openapi';
import {
  bearerSecurity,
  createRouter,
  decodeCursor,
  encodeCursor,
  keysetPage,
  pageOf,
  pageQuery,
  problemResponses,
} from '@shop/platform';
import { listOrders, listTimeline, type Order } from './repository.ts';
import {
  idempotencyKeyHeaders,
  type OrderView,
  order,
  orderIdParams,
  orderStatuses,
  placeOrderBody,
  timeline,
} from './schemas.ts';
import {
  assertMayPlaceOrders,
  cancelOwnOrder,
  findOwnOrder,
  type OrdersDeps,
  type PlacementDeps,
  placeOrder,
  toOrderView,
  toTimelineView,
} from './service.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const placeRoute = createRoute({
  method: 'post',
  path: '/',
  security: bearerSecurity,
  request: {
    headers: idempotencyKeyHeaders,
    body: { required: true, content: json(placeOrderBody) },
  },
  responses: {
    202: {
      description:
        'the order, pending while stock and payment are settled; a repeat of the same key and body gets this same answer',
      headers: z.object({
        Location: z.string().openapi({ description: 'the order' }),
        'Idempotent-Replayed': z
          .enum(['true'])
          .optional()
          .openapi({ description: 'present when this is the stored answer to an earlier request' }),
      }),
      content: json(order),
    },
    // 403 also when REQUIRE_VERIFIED_EMAIL is on and the token's email_verified is not true;
    // 409: a request with this key is in flight; 422: the key was used with another body,
    // or a product does not exist; 503: the catalog could not price the order.
    ...problemResponses(400, 401, 403, 409, 413, 422, 503),
  },
});

const listQuery = pageQuery.extend({ status: z.enum(orderStatuses).optional() });

const listRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: { query: listQuery },
  responses: {
    200: { description: 'the caller’s orders, newest first', content: json(pageOf(order)) },
    ...problemResponses(400, 401, 403),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  security: bearerSecurity,
  request: { params: orderIdParams },
  responses: {
    200: { description: 'the order', content: json(order) },
    // 404 also for another user's order, so ids reveal nothing.
    ...problemResponses(400, 401, 403, 404),
  },
});

const timelineRoute = createRoute({
  method: 'get',
  path: '/{id}/timeline',
  security: bearerSecurity,
  request: { params: orderIdParams },
  responses: {
    200: { description: 'the order’s saga steps, oldest first', content: json(timeline) },
    ...problemResponses(400, 401, 403, 404),
  },
});

const cancelRoute = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  security: bearerSecurity,
  request: { params: orderIdParams },
  responses: {
    200: {
      description: 'the cancelled order; a paid one is refunded and its stock returned',
      content: json(order),
    },
    // 409: the order is already cancelled.
    ...problemResponses(400, 401, 403, 404, 409, 413),
  },
});

const adminListRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: { query: listQuery },
  responses: {
    200: { description: 'every user’s orders, newest first', content: json(pageOf(order)) },
    ...problemResponses(400, 401, 403),
  },
});

const position = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

async function pageOfOrders(
  deps: Pick<OrdersDeps, 'db'>,
  query: z.infer<typeof listQuery>,
  userId?: string,
): Promise<{ items: OrderView[]; nextCursor: string | null }> {
  const after = query.cursor ? decodeCursor(query.cursor, position) : undefined;
  const { rows, nextCursor } = await keysetPage(
    query.limit,
    (limit): Promise<Order[]> =>
      listOrders(deps.db, {
        userId,
        status: query.status,
        limit,
        after: after && { createdAt: new Date(after.createdAt), id: after.id },
      }),
    (last) => encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }),
  );
  return { items: rows.map(toOrderView), nextCursor };
}

/** The sf-string form of the header (`"abc"`) and the bare form (`abc`) name the same key. */
function keyFrom(header: string): string {
  return /^".+"$/.test(header) ? header.slice(1, -1) : header;
}

/** Mounted at /api/v1/orders behind authenticate(): a user sees and changes only their own. */
export function orderRoutes(deps: PlacementDeps) {
  return createRouter()
    .openapi(placeRoute, async (c) => {
      // Before the key is claimed: a refused caller leaves nothing behind.
      assertMayPlaceOrders(deps, c.get('user'));
      const scope = {
        userId: c.get('user').id,
        key: keyFrom(c.req.valid('header')['idempotency-key']),
      };
      const answer = await placeOrder(deps, scope, c.req.valid('json'));
      if (answer.location) c.header('location', answer.location);
      if (answer.replayed) c.header('idempotent-replayed', 'true');
      return c.json(answer.body as OrderView, 202);
    })
    .openapi(listRoute, async (c) =>
      c.json(await pageOfOrders(deps, c.req.valid('query'), c.get('user').id), 200),
    )
    .openapi(getRoute, async (c) => {
      const found = await findOwnOrder(deps, c.get('user').id, c.req.valid('param').id);
      return c.json(toOrderView(found), 200);
    })
    .openapi(timelineRoute, async (c) => {
      const { id } = c.req.valid('param');
      await findOwnOrder(deps, c.get('user').id, id);
      return c.json(toTimelineView(await listTimeline(deps.db, id)), 200);
    })
    .openapi(cancelRoute, async (c) => {
      const cancelled = await cancelOwnOrder(deps, c.get('user').id, c.req.valid('param').id);
      return c.json(toOrderView(cancelled), 200);
    });
}

/** Mounted at /api/v1/admin/orders behind authenticate() and requireRole('admin'). */
export function adminOrderRoutes(deps: Pick<OrdersDeps, 'db'>) {
  return createRouter().openapi(adminListRoute, async (c) =>
    c.json(await pageOfOrders(deps, c.req.valid('query')), 200),
  );
}

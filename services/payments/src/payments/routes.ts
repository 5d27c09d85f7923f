import { createRoute, z } from '@hono/zod-openapi';
import {
  bearerSecurity,
  createRouter,
  decodeCursor,
  encodeCursor,
  keysetPage,
  pageOf,
  problemResponses,
} from '@shop/platform';
import type { Kysely } from 'kysely';
import type { PaymentsTables } from '../tables.ts';
import { listPayments, type Payment } from './repository.ts';
import { type PaymentView, paymentsQuery, paymentView } from './schemas.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: { query: paymentsQuery },
  responses: {
    200: {
      description: 'charges and refunds, newest first',
      content: { 'application/json': { schema: pageOf(paymentView) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

const position = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

function toView(payment: Payment): PaymentView {
  return { ...payment, createdAt: payment.createdAt.toISOString() };
}

/** Mounted at /api/v1/admin/payments behind authenticate() and requireRole('admin'). */
export function adminPaymentRoutes(deps: { db: Kysely<PaymentsTables> }) {
  return createRouter().openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const after = query.cursor ? decodeCursor(query.cursor, position) : undefined;
    const { rows, nextCursor } = await keysetPage(
      query.limit,
      (limit) =>
        listPayments(deps.db, {
          orderId: query.orderId,
          limit,
          ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}),
        }),
      (last) => encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }),
    );
    return c.json({ items: rows.map(toView), nextCursor }, 200);
  });
}

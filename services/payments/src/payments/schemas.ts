import { z } from '@hono/zod-openapi';
import { pageQuery } from '@shop/platform';

export const paymentsQuery = pageQuery.extend({
  /** Only this order's charge and refund. */
  orderId: z.uuid().optional(),
});

export const paymentView = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    kind: z.enum(['charge', 'refund']),
    /** Minor units of `currency`. */
    amount: z.number().int().min(0),
    currency: z.string().regex(/^[A-Z]{3}$/),
    status: z.enum(['pending', 'succeeded', 'failed']),
    provider: z.string(),
    /** The processor's id, once it has answered. */
    providerRef: z.string().nullable(),
    /** Why a failed charge failed. */
    failureReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('Payment');

export type PaymentView = z.infer<typeof paymentView>;

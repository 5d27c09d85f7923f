import { z } from '@hono/zod-openapi';
import { cancelReasons, singleLineText } from '@shop/platform';

export const orderStatuses = ['pending', 'confirmed', 'cancelled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export type CancelReason = (typeof cancelReasons)[number];

/** The test payment methods, after card-processor test tokens; anything else is refused. */
export const paymentMethods = [
  'pm_card_visa',
  'pm_card_chargeDeclined',
  'pm_card_insufficientFunds',
] as const;

export const maxLinesPerOrder = 50;
export const maxQuantityPerProduct = 100;

export const placeOrderBody = z
  .object({
    items: z
      .array(
        z.object({
          productId: z.uuid(),
          quantity: z.number().int().min(1).max(maxQuantityPerProduct),
        }),
      )
      .min(1)
      .max(maxLinesPerOrder)
      .superRefine((items, ctx) => {
        const totals = new Map<string, number>();
        for (const { productId, quantity } of items) {
          totals.set(productId, (totals.get(productId) ?? 0) + quantity);
        }
        for (const [productId, quantity] of totals) {
          if (quantity > maxQuantityPerProduct) {
            ctx.addIssue({
              code: 'custom',
              message: `${quantity} of product ${productId} in all; at most ${maxQuantityPerProduct}`,
            });
          }
        }
      })
      .openapi({
        description:
          'one line per product; a product listed twice becomes one line with the quantities added (at most 100 in all)',
      }),
    paymentMethod: z.enum(paymentMethods),
  })
  .openapi('PlaceOrder');

export type PlaceOrderInput = z.infer<typeof placeOrderBody>;

export const idempotencyKeyHeaders = z.object({
  'idempotency-key': singleLineText().min(1).max(255).openapi({
    description:
      'a client-chosen key, unique per intended order, kept 24 h per user (IETF httpapi idempotency-key); repeating it with the same body replays the first answer',
    example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
  }),
});

const money = z.number().int().min(0);

export const order = z
  .object({
    id: z.uuid(),
    userId: z.string(),
    status: z.enum(orderStatuses),
    items: z.array(
      z.object({
        productId: z.uuid(),
        name: z.string(),
        quantity: z.number().int().min(1),
        /** Minor units, as the catalog priced it when the order was placed. */
        unitPrice: money,
      }),
    ),
    total: money,
    currency: z.string(),
    paymentMethod: z.enum(paymentMethods),
    cancelReason: z.enum(cancelReasons).optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('Order');

export type OrderView = z.infer<typeof order>;

export const timelineSteps = [
  'placed',
  'stock_reserved',
  'stock_rejected',
  'payment_succeeded',
  'payment_failed',
  'payment_refunded',
  'confirmed',
  'cancelled',
] as const;
export type TimelineStep = (typeof timelineSteps)[number];

export const timeline = z
  .object({
    items: z.array(
      z.object({
        step: z.enum(timelineSteps),
        at: z.iso.datetime(),
        /** The event that carried the step: received, or published by this service. */
        eventId: z.string(),
        /** A reason where the step has one (why it was cancelled or declined). */
        detail: z.string().optional(),
      }),
    ),
  })
  .openapi('OrderTimeline');

export type TimelineView = z.infer<typeof timeline>;

export const orderIdParams = z.object({ id: z.uuid() });

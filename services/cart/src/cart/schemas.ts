import { z } from '@hono/zod-openapi';
import { singleLineText } from '@shop/platform';
import { maxQuantity } from './document.ts';

export const productParams = z.object({
  productId: z.uuid().openapi({ param: { name: 'productId', in: 'path' } }),
});

export const quantityBody = z
  .object({
    quantity: z
      .number()
      .int()
      .min(0)
      .max(maxQuantity)
      .openapi({ description: 'units of the product in the cart; 0 removes the line' }),
  })
  .openapi('CartQuantity');

const money = z.number().int().min(0);

export const cartItem = z
  .object({
    productId: z.string(),
    name: z.string(),
    quantity: z.number().int().min(1).max(maxQuantity),
    unitPrice: money.openapi({ description: 'the catalog’s price now, minor units of `currency`' }),
    available: z.number().int().openapi({ description: 'units in stock, as the catalog says now' }),
  })
  .openapi('CartItem');

export const cartView = z
  .object({
    items: z.array(cartItem),
    total: money,
    currency: z.string(),
  })
  .openapi('Cart');

export type CartView = z.infer<typeof cartView>;

export const checkoutBody = z
  .object({
    paymentMethod: singleLineText()
      .min(1)
      .max(100)
      .openapi({ description: 'as for POST /api/v1/orders', example: 'pm_card_visa' }),
  })
  .openapi('CartCheckout');

// The same rule as orders' header: what orders would refuse, the cart refuses first.
export const idempotencyKeyHeaders = z.object({
  'idempotency-key': singleLineText().min(1).max(255).openapi({
    description:
      'as for POST /api/v1/orders, whose key it becomes: repeating it replays orders’ first answer, and leaves the cart as it is',
    example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
  }),
});

/** The order as orders answered it (its own document describes every field). */
export const placedOrder = z.looseObject({ id: z.uuid(), status: z.string() }).openapi('CartOrder');

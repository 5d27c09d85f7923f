import { z } from '@hono/zod-openapi';
import { multilineText, pageQuery, singleLineText } from '@shop/platform';

// Postgres `integer`: prices and counts above it would fail at the database, not here.
const maxInteger = 2_147_483_647;

export const productId = z.uuid();

export const product = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    price: z.number().int().openapi({ description: 'minor units of `currency` (cents)' }),
    currency: z.string(),
    available: z.number().int().openapi({ description: 'units in stock, as inventory last said' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('Product');

/** A product as clients see it. */
export type ProductView = z.infer<typeof product>;

const sku = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores');
const name = singleLineText().trim().min(1).max(200);
const description = multilineText().max(5_000);
const category = singleLineText().trim().min(1).max(100);
const price = z.number().int().min(1).max(maxInteger).openapi({ description: 'minor units, > 0' });
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .openapi({ description: 'ISO 4217; must be the shop’s currency (SHOP_CURRENCY)' });

// z.object strips keys it does not name, so `id`, `available`, `createdAt` and other
// read-only or unknown fields in a body never take effect.
export const newProduct = z
  .object({
    sku,
    name,
    description: description.default(''),
    category,
    price,
    currency,
    stock: z
      .number()
      .int()
      .min(0)
      .max(maxInteger)
      .default(0)
      .openapi({ description: 'units inventory starts with' }),
  })
  .openapi('NewProduct');

export type NewProduct = z.infer<typeof newProduct>;

/** What PATCH may change; the SKU names the product for good, and stock belongs to inventory. */
export const productChanges = z
  .object({
    name: name.optional(),
    description: description.optional(),
    category: category.optional(),
    price: price.optional(),
    currency: currency.optional(),
  })
  .openapi('ProductChanges');

export type ProductChanges = z.infer<typeof productChanges>;

export const productSorts = ['relevance', 'newest', 'price', '-price'] as const;
export type ProductSort = (typeof productSorts)[number];

export const productQuery = pageQuery
  .extend({
    q: singleLineText().trim().min(1).max(200).optional(),
    category: category.optional(),
    minPrice: z.coerce.number().int().min(0).max(maxInteger).optional(),
    maxPrice: z.coerce.number().int().min(0).max(maxInteger).optional(),
    inStock: z.stringbool().optional(),
    sort: z.enum(productSorts).optional().openapi({
      description:
        '`relevance` (the default with `q`, and only with it), `newest` (the default without), `price`, `-price`',
    }),
  })
  .refine((query) => query.sort !== 'relevance' || query.q !== undefined, {
    path: ['sort'],
    message: 'relevance needs a search query (q)',
  })
  .refine(
    (query) =>
      query.minPrice === undefined ||
      query.maxPrice === undefined ||
      query.minPrice <= query.maxPrice,
    { path: ['minPrice'], message: 'minPrice must not exceed maxPrice' },
  );

export type ProductQuery = z.infer<typeof productQuery>;

export const productBatchRequest = z
  .object({ ids: z.array(productId).min(1).max(100) })
  .openapi('ProductBatchRequest');

export const productBatch = z
  .object({
    items: z.array(product),
    missing: z.array(z.string()).openapi({ description: 'ids with no product, or a deleted one' }),
  })
  .openapi('ProductBatch');

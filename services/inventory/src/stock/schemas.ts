import { z } from '@hono/zod-openapi';

export const productIdParam = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    example: '0b6e1b0c-4a43-4d5f-9c1e-2f0f3c1f7a10',
  }),
});

export const stockLevel = z
  .object({
    productId: z.uuid(),
    /** Units that can still be reserved. */
    available: z.number().int().min(0),
    /** Units held for orders not yet confirmed or cancelled. */
    reserved: z.number().int().min(0),
    /** Units in confirmed orders. */
    sold: z.number().int().min(0),
    /** Grows by one with every change of the three counts; the ETag. */
    version: z.number().int().min(1),
  })
  .openapi('StockLevel');

export type StockLevel = z.infer<typeof stockLevel>;

export const stockUpdate = z.object({
  available: z.number().int().min(0).max(1_000_000_000),
});

// Header names are matched in lower case, so the document names it that way too.
export const ifMatchHeader = z.object({
  'if-match': z.string().optional().openapi({
    description: 'the ETag of the stock this change is based on; 412 when it is not current',
    example: '"3"',
  }),
});

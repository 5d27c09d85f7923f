import { z } from '@hono/zod-openapi';
import { AppError } from '../errors.ts';

/** `limit` and `cursor`, as every list endpoint takes them. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  // Cursors are base64url; anything else is no cursor this service issued.
  cursor: z
    .string()
    .min(1)
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor this endpoint issued')
    .optional(),
});

/**
 * A PostgreSQL `integer` (int4): a number read from a cursor or a query and compared with
 * such a column must fit it, or the database refuses the query.
 */
export const pgInteger = z.number().int().min(-2_147_483_648).max(2_147_483_647);

/** `{ items, nextCursor }`, as every list endpoint answers. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/**
 * Cursors are opaque to clients: the position after the last item, as base64url JSON.
 *
 * @example
 * const next = encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id });
 * const position = decodeCursor(query.cursor, z.object({ createdAt: z.iso.datetime(), id: z.string() }));
 */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends z.ZodType>(cursor: string, schema: T): z.infer<T> {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('validation_failed', 'the cursor is not one this endpoint issued', {
      errors: [{ path: 'cursor', message: 'invalid cursor' }],
    });
  }
}

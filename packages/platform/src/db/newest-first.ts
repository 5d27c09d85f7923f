import { type SelectQueryBuilder, sql } from 'kysely';

/** Where a newest-first page starts: just after the last row of the page before. */
export type NewestFirstCursor = { createdAt: Date; id: string };

/**
 * One page of rows newest first, by `created_at` then `id` (both descending, so rows
 * created in the same instant keep a stable order), starting after `after` when given.
 * The row comparison lets PostgreSQL walk a `(created_at, id)` index from the cursor.
 *
 * @example
 * const rows = await newestFirst(db.selectFrom('orders').selectAll(), { limit, after }).execute();
 */
export function newestFirst<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  page: { limit: number; after?: NewestFirstCursor | undefined },
): SelectQueryBuilder<DB, TB, O> {
  const { after } = page;
  const started = after
    ? query.where(sql<boolean>`(created_at, id) < (${after.createdAt}, ${after.id})`)
    : query;
  return started.orderBy(sql`created_at desc, id desc`).limit(page.limit);
}

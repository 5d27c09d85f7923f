/**
 * One page of a keyset listing, as `{ items, nextCursor }` answers need it: `read` is asked
 * for one row more than `limit`, which tells whether another page follows without a count
 * query; the cursor then names the page's last row.
 *
 * @example
 * const { rows, nextCursor } = await keysetPage(query.limit, (limit) => listOrders(db, { limit, after }),
 *   (last) => encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }));
 */
export async function keysetPage<Row>(
  limit: number,
  read: (limit: number) => Promise<Row[]>,
  cursorOf: (last: Row) => string,
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  const found = await read(limit + 1);
  const rows = found.slice(0, limit);
  const last = rows.at(-1);
  return { rows, nextCursor: found.length > limit && last !== undefined ? cursorOf(last) : null };
}

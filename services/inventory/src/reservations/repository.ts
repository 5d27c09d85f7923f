import type { Transaction } from 'kysely';
import type { InventoryTables, ReservationStatus } from '../tables.ts';

type Trx = Transaction<InventoryTables>;

export type ReservationLine = { productId: string; quantity: number };

/**
 * Takes the order's reservation row with `status`, unless the order already has one
 * (a duplicate order.created, or the tombstone of an earlier cancellation). A concurrent
 * claim of the same order waits on the key until this transaction ends, then finds it
 * taken, so exactly one event decides each order.
 */
export async function claimReservation(
  trx: Trx,
  orderId: string,
  status: ReservationStatus,
  at: Date,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('reservations')
    .values({ order_id: orderId, status, updated_at: at })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .returning('order_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Locks the order's reservation row until the transaction ends and reads its status. */
export async function lockReservation(
  trx: Trx,
  orderId: string,
): Promise<ReservationStatus | undefined> {
  const row = await trx
    .selectFrom('reservations')
    .select('status')
    .where('order_id', '=', orderId)
    .forUpdate()
    .executeTakeFirst();
  return row?.status;
}

/** Moves the reservation from `from` to `to`; answers false, changing nothing, when it is not at `from`. */
export async function transitionReservation(
  trx: Trx,
  orderId: string,
  from: ReservationStatus,
  to: ReservationStatus,
  at: Date,
): Promise<boolean> {
  const updated = await trx
    .updateTable('reservations')
    .set({ status: to, updated_at: at })
    .where('order_id', '=', orderId)
    .where('status', '=', from)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

export async function insertReservationLines(
  trx: Trx,
  orderId: string,
  lines: readonly ReservationLine[],
): Promise<void> {
  await trx
    .insertInto('reservation_lines')
    .values(
      lines.map((line) => ({
        order_id: orderId,
        product_id: line.productId,
        quantity: line.quantity,
      })),
    )
    .execute();
}

/** The reservation's lines in product_id order, the order their stock rows are locked in. */
export async function findReservationLines(trx: Trx, orderId: string): Promise<ReservationLine[]> {
  const rows = await trx
    .selectFrom('reservation_lines')
    .select(['product_id', 'quantity'])
    .where('order_id', '=', orderId)
    .orderBy('product_id')
    .execute();
  return rows.map((row) => ({ productId: row.product_id, quantity: row.quantity }));
}

import { type NewestFirstCursor, newestFirst } from '@shop/platform/db';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { OrderLinesTable, OrdersTable, OrdersTables } from '../tables.ts';
import type { CancelReason, OrderStatus, paymentMethods, TimelineStep } from './schemas.ts';

export type OrderLine = { productId: string; name: string; quantity: number; unitPrice: number };

export type Order = {
  id: string;
  userId: string;
  status: OrderStatus;
  cancelReason: CancelReason | null;
  items: OrderLine[];
  total: number;
  currency: string;
  paymentMethod: (typeof paymentMethods)[number];
  createdAt: Date;
  updatedAt: Date;
};

export type TimelineEntry = { step: TimelineStep; eventId: string; detail?: string; at: Date };

type Db = Kysely<OrdersTables> | Transaction<OrdersTables>;

function toOrder(row: Selectable<OrdersTable>, lines: Selectable<OrderLinesTable>[]): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    cancelReason: row.cancel_reason,
    items: lines.map((line) => ({
      productId: line.product_id,
      name: line.name,
      quantity: line.quantity,
      unitPrice: Number(line.unit_price),
    })),
    total: Number(row.total),
    currency: row.currency,
    paymentMethod: row.payment_method as Order['paymentMethod'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function withLines(db: Db, rows: Selectable<OrdersTable>[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const lines = await db
    .selectFrom('order_lines')
    .selectAll()
    .where(
      'order_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('order_id')
    .orderBy('position')
    .execute();
  return rows.map((row) =>
    toOrder(
      row,
      lines.filter((line) => line.order_id === row.id),
    ),
  );
}

export async function insertOrder(db: Db, order: Order): Promise<void> {
  await db
    .insertInto('orders')
    .values({
      id: order.id,
      user_id: order.userId,
      status: order.status,
      cancel_reason: order.cancelReason,
      total: order.total,
      currency: order.currency,
      payment_method: order.paymentMethod,
      created_at: order.createdAt,
      updated_at: order.updatedAt,
    })
    .execute();
  await db
    .insertInto('order_lines')
    .values(
      order.items.map((line, position) => ({
        order_id: order.id,
        position,
        product_id: line.productId,
        name: line.name,
        quantity: line.quantity,
        unit_price: line.unitPrice,
      })),
    )
    .execute();
}

export async function findOrder(db: Db, id: string): Promise<Order | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row && (await withLines(db, [row]))[0];
}

/** Newest first; `after` is the last order of the previous page. */
export async function listOrders(
  db: Db,
  filter: {
    userId?: string | undefined;
    status?: OrderStatus | undefined;
    limit: number;
    after?: NewestFirstCursor | undefined;
  },
): Promise<Order[]> {
  let query = db.selectFrom('orders').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  const rows = await newestFirst(query, filter).execute();
  return withLines(db, rows);
}

/**
 * Moves an order to `to` only if it is in one of the `from` states, in one conditional
 * UPDATE: of two racing transitions exactly one finds the order where it expects it, and a
 * late or repeated event can never move an order back. Undefined when it was not moved.
 */
export async function transitionOrder(
  db: Db,
  id: string,
  move: { from: readonly OrderStatus[]; to: OrderStatus; cancelReason?: CancelReason; at: Date },
): Promise<Pick<Order, 'id' | 'userId' | 'total' | 'currency'> | undefined> {
  const row = await db
    .updateTable('orders')
    .set({ status: move.to, cancel_reason: move.cancelReason ?? null, updated_at: move.at })
    .where('id', '=', id)
    .where('status', 'in', move.from)
    .returning(['id', 'user_id', 'total', 'currency'])
    .executeTakeFirst();
  return (
    row && { id: row.id, userId: row.user_id, total: Number(row.total), currency: row.currency }
  );
}

/**
 * Takes up to `limit` pending orders placed before `placedBefore` and locks them for the
 * caller's transaction, skipping those another sweep holds, so concurrent sweeps (one per
 * replica) split the work instead of queueing on each other.
 */
export async function lockExpiredPendingOrders(
  trx: Transaction<OrdersTables>,
  placedBefore: Date,
  limit: number,
): Promise<string[]> {
  const rows = await trx
    .selectFrom('orders')
    .select('id')
    .where('status', '=', 'pending')
    .where('created_at', '<', placedBefore)
    .orderBy('created_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((row) => row.id);
}

export async function appendTimeline(db: Db, orderId: string, entry: TimelineEntry): Promise<void> {
  await db
    .insertInto('order_timeline')
    .values({
      order_id: orderId,
      step: entry.step,
      event_id: entry.eventId,
      detail: entry.detail ?? null,
      at: entry.at,
    })
    .execute();
}

export async function listTimeline(db: Db, orderId: string): Promise<TimelineEntry[]> {
  const rows = await db
    .selectFrom('order_timeline')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('sequence')
    .execute();
  return rows.map((row) => ({
    step: row.step as TimelineStep,
    eventId: row.event_id,
    ...(row.detail === null ? {} : { detail: row.detail }),
    at: row.at,
  }));
}

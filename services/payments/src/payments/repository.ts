import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { PaymentFailureReason } from '../providers/provider.ts';
import type {
  OrdersToChargeTable,
  PaymentKind,
  PaymentStatus,
  PaymentsTable,
  PaymentsTables,
} from '../tables.ts';

type Db = Kysely<PaymentsTables> | Transaction<PaymentsTables>;

export type OrderToCharge = {
  orderId: string;
  userId: string;
  total: number;
  currency: string;
  paymentMethod: string;
  createdAt: Date;
};

export type Payment = {
  id: string;
  orderId: string;
  kind: PaymentKind;
  amount: number;
  currency: string;
  status: PaymentStatus;
  provider: string;
  providerRef: string | null;
  failureReason: PaymentFailureReason | null;
  createdAt: Date;
};

function toOrder(row: Selectable<OrdersToChargeTable>): OrderToCharge {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    // bigint columns come back as numbers while they fit (see the platform's database).
    total: Number(row.total),
    currency: row.currency,
    paymentMethod: row.payment_method,
    createdAt: row.created_at,
  };
}

function toPayment(row: Selectable<PaymentsTable>): Payment {
  return {
    id: row.id,
    orderId: row.order_id,
    kind: row.kind,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    provider: row.provider,
    providerRef: row.provider_ref,
    failureReason: row.failure_reason as PaymentFailureReason | null,
    createdAt: row.created_at,
  };
}

/**
 * Holds the order's payment state for the rest of the transaction: every transaction that
 * reads and then changes an order's charge, refund or cancellation takes it first, so a
 * cancellation and a charge's outcome recorded at the same time each see the other.
 */
export async function lockOrder(trx: Transaction<PaymentsTables>, orderId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${orderId}, 0))`.execute(trx);
}

/** Keeps the first announcement of an order; a repeat changes nothing. */
export async function insertOrderToCharge(db: Db, order: OrderToCharge): Promise<void> {
  await db
    .insertInto('orders_to_charge')
    .values({
      order_id: order.orderId,
      user_id: order.userId,
      total: order.total,
      currency: order.currency,
      payment_method: order.paymentMethod,
      created_at: order.createdAt,
    })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
}

export async function findOrderToCharge(
  db: Db,
  orderId: string,
): Promise<OrderToCharge | undefined> {
  const row = await db
    .selectFrom('orders_to_charge')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return row && toOrder(row);
}

export async function recordCancellation(db: Db, orderId: string, at: Date): Promise<void> {
  await db
    .insertInto('cancelled_orders')
    .values({ order_id: orderId, cancelled_at: at })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
}

export async function isCancelled(db: Db, orderId: string): Promise<boolean> {
  const row = await db
    .selectFrom('cancelled_orders')
    .select('order_id')
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Records a pending charge or refund unless the order already has one of that kind; the
 * unique (order_id, kind) decides, so two racing deliveries cannot both insert.
 */
export async function insertPendingPayment(
  db: Db,
  payment: Pick<Payment, 'id' | 'orderId' | 'kind' | 'amount' | 'currency' | 'provider'> & {
    at: Date;
  },
): Promise<void> {
  await db
    .insertInto('payments')
    .values({
      id: payment.id,
      order_id: payment.orderId,
      kind: payment.kind,
      amount: payment.amount,
      currency: payment.currency,
      status: 'pending',
      provider: payment.provider,
      created_at: payment.at,
      updated_at: payment.at,
    })
    .onConflict((oc) => oc.columns(['order_id', 'kind']).doNothing())
    .execute();
}

export async function findPayment(
  db: Db,
  orderId: string,
  kind: PaymentKind,
): Promise<Payment | undefined> {
  const row = await db
    .selectFrom('payments')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return row && toPayment(row);
}

/**
 * Records the provider's answer on a pending payment. Only the first answer counts: false
 * when another delivery recorded one already, so its caller publishes nothing.
 */
export async function settlePendingPayment(
  db: Db,
  id: string,
  outcome:
    | { status: 'succeeded'; providerRef: string; at: Date }
    | { status: 'failed'; reason: PaymentFailureReason; at: Date },
): Promise<boolean> {
  const updated = await db
    .updateTable('payments')
    .set({
      status: outcome.status,
      provider_ref: outcome.status === 'succeeded' ? outcome.providerRef : null,
      failure_reason: outcome.status === 'failed' ? outcome.reason : null,
      updated_at: outcome.at,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Newest first; `after` is the last payment of the previous page. */
export async function listPayments(
  db: Db,
  query: { orderId?: string | undefined; limit: number; after?: { createdAt: Date; id: string } },
): Promise<Payment[]> {
  let select = db.selectFrom('payments').selectAll();
  if (query.orderId) select = select.where('order_id', '=', query.orderId);
  const { after } = query;
  if (after) {
    select = select.where((eb) =>
      eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)),
    );
  }
  const rows = await select
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .execute();
  return rows.map(toPayment);
}

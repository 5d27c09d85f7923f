import type { PlatformTables } from '@shop/platform/db';
import type { ColumnType } from 'kysely';

/** What an order will need charged, as `order.created` announced it. */
export type OrdersToChargeTable = {
  order_id: string;
  user_id: string;
  /** Minor units of `currency`. */
  total: number;
  currency: string;
  payment_method: string;
  created_at: ColumnType<Date, Date, never>;
};

/**
 * Orders known to be cancelled, from `order.cancelled`; kept apart from orders_to_charge
 * because a cancellation may arrive before the order it cancels.
 */
export type CancelledOrdersTable = {
  order_id: string;
  cancelled_at: ColumnType<Date, Date, never>;
};

export type PaymentKind = 'charge' | 'refund';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed';

/**
 * One charge or one refund of an order: unique per (order_id, kind), so an order is charged
 * at most once and refunded at most once. A row is `pending` from before the provider is
 * called until its answer is recorded.
 */
export type PaymentsTable = {
  id: string;
  order_id: string;
  kind: PaymentKind;
  amount: number;
  currency: string;
  status: PaymentStatus;
  provider: string;
  /** The provider's id for the charge or refund, once it has answered. */
  provider_ref: string | null;
  /** Why a charge failed, in the words of `payment.failed`. */
  failure_reason: string | null;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
};

export type PaymentsTables = PlatformTables & {
  orders_to_charge: OrdersToChargeTable;
  cancelled_orders: CancelledOrdersTable;
  payments: PaymentsTable;
};

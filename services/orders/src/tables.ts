import type { PlatformTables } from '@shop/platform/db';
import type { ColumnType, Generated } from 'kysely';
import type { CancelReason, OrderStatus } from './orders/schemas.ts';

// bigint columns come back as numbers (the platform parses int8 that fits).
type Money = ColumnType<number, number, number>;

export type OrdersTable = {
  id: string;
  user_id: string;
  status: OrderStatus;
  cancel_reason: CancelReason | null;
  total: Money;
  currency: string;
  payment_method: string;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
};

/** One product of an order, with the name and price the catalog had when it was placed. */
export type OrderLinesTable = {
  order_id: string;
  /** The line's place in the order as the client listed it (after merging repeats). */
  position: number;
  product_id: string;
  name: string;
  quantity: number;
  unit_price: Money;
};

/** One step of an order's saga, received or taken, with the event that carried it. */
export type OrderTimelineTable = {
  order_id: string;
  sequence: ColumnType<number, never, never>;
  step: string;
  event_id: string;
  detail: string | null;
  at: Date;
};

/** One Idempotency-Key of one user, and once its request finished, the answer it got. */
export type IdempotencyKeysTable = {
  user_id: string;
  key: string;
  request_hash: string;
  status: 'in_flight' | 'completed';
  attempt_id: string;
  locked_at: Date;
  response_status: number | null;
  response_location: string | null;
  // JSON text in, parsed out, so pg and PGlite bind it the same way.
  response_body: ColumnType<unknown, string | null, string | null>;
  created_at: Generated<Date>;
};

export type OrdersTables = PlatformTables & {
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_timeline: OrderTimelineTable;
  idempotency_keys: IdempotencyKeysTable;
};

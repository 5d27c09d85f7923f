import type { PlatformTables } from '@shop/platform/db';
import type { ColumnType, Generated } from 'kysely';

/** One product's stock. CHECK constraints keep every count at zero or above. */
export type StockTable = {
  product_id: string;
  available: number;
  reserved: number;
  sold: number;
  /** Grows by one with every change of available, reserved or sold; the ETag and stock.changed's version. */
  version: number;
  /** Set by product.deleted: no new reservations, while existing ones can still be committed or released. */
  deleted_at: Date | null;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
};

export const movementReasons = [
  'initial',
  'restock',
  'adjustment',
  'reserve',
  'release',
  'commit',
] as const;
export type MovementReason = (typeof movementReasons)[number];

/**
 * The stock ledger: every change of a stock row, append-only. Summing the deltas of a
 * product gives its row, which is how invariant 1 is checked from the ledger.
 */
export type StockMovementsTable = {
  id: Generated<number>;
  product_id: string;
  reason: MovementReason;
  /** Who caused it: the admin's user id, or the id of the event that did. */
  actor: string;
  order_id: string | null;
  available_delta: number;
  reserved_delta: number;
  sold_delta: number;
  /** The stock row's version after this movement. */
  version: number;
  created_at: Generated<Date>;
};

export const reservationStatuses = ['reserved', 'committed', 'released', 'rejected'] as const;
export type ReservationStatus = (typeof reservationStatuses)[number];

/**
 * One row per order the saga has told inventory about. Its status only moves forward, by
 * conditional UPDATE: reserved → committed | released, committed → released (a paid order
 * cancelled). A `released` row without lines is the tombstone of a cancellation that
 * arrived before its order.created.
 */
export type ReservationsTable = {
  order_id: string;
  status: ReservationStatus;
  created_at: Generated<Date>;
  updated_at: Date;
};

/** What a reservation holds, one row per product (an order's lines for one product summed). */
export type ReservationLinesTable = {
  order_id: string;
  product_id: string;
  quantity: number;
};

export type InventoryTables = PlatformTables & {
  stock: StockTable;
  stock_movements: StockMovementsTable;
  reservations: ReservationsTable;
  reservation_lines: ReservationLinesTable;
};

import type { Kysely, Selectable, Transaction } from 'kysely';
import type { InventoryTables, MovementReason, StockTable } from '../tables.ts';

export type Stock = {
  productId: string;
  available: number;
  reserved: number;
  sold: number;
  version: number;
  deletedAt: Date | null;
};

/** A change of one product's stock, as the ledger records it. */
export type Movement = {
  reason: MovementReason;
  actor: string;
  orderId?: string;
  available: number;
  reserved: number;
  sold: number;
};

type Db = Kysely<InventoryTables> | Transaction<InventoryTables>;

function toStock(row: Selectable<StockTable>): Stock {
  return {
    productId: row.product_id,
    available: row.available,
    reserved: row.reserved,
    sold: row.sold,
    version: row.version,
    deletedAt: row.deleted_at,
  };
}

export async function findStock(db: Db, productId: string): Promise<Stock | undefined> {
  const row = await db
    .selectFrom('stock')
    .selectAll()
    .where('product_id', '=', productId)
    .executeTakeFirst();
  return row && toStock(row);
}

/**
 * Locks the stock rows of these products until the transaction ends, always in
 * product_id order: two transactions that lock overlapping sets then queue on the first
 * row they share instead of each holding one the other waits for (no deadlock).
 * Products without a row are simply absent from the result.
 */
export async function lockStock(
  trx: Transaction<InventoryTables>,
  productIds: readonly string[],
): Promise<Map<string, Stock>> {
  if (productIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('stock')
    .selectAll()
    .where('product_id', 'in', [...productIds])
    .orderBy('product_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.product_id, toStock(row)]));
}

/** Inserts the product's stock row unless it has one; the primary key decides a race. */
export async function insertStock(
  trx: Transaction<InventoryTables>,
  stock: Stock,
  at: Date,
): Promise<'inserted' | 'exists'> {
  const inserted = await trx
    .insertInto('stock')
    .values({
      product_id: stock.productId,
      available: stock.available,
      reserved: stock.reserved,
      sold: stock.sold,
      version: stock.version,
      deleted_at: stock.deletedAt,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column('product_id').doNothing())
    .returning('product_id')
    .executeTakeFirst();
  return inserted ? 'inserted' : 'exists';
}

/** Marks a product deleted, once; answers whether this call did it. */
export async function markStockDeleted(
  trx: Transaction<InventoryTables>,
  productId: string,
  at: Date,
): Promise<boolean> {
  const updated = await trx
    .updateTable('stock')
    .set({ deleted_at: at, updated_at: at })
    .where('product_id', '=', productId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/**
 * Applies a movement to a stock row the caller has locked and appends it to the ledger
 * with the row's new version. The counts are updated relative to the row, so the CHECK
 * constraints see exactly what is written.
 */
export async function applyMovement(
  trx: Transaction<InventoryTables>,
  productId: string,
  movement: Movement,
  at: Date,
): Promise<Stock> {
  const row = await trx
    .updateTable('stock')
    .set((eb) => ({
      available: eb('available', '+', movement.available),
      reserved: eb('reserved', '+', movement.reserved),
      sold: eb('sold', '+', movement.sold),
      version: eb('version', '+', 1),
      updated_at: at,
    }))
    .where('product_id', '=', productId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordMovement(trx, productId, movement, row.version, at);
  return toStock(row);
}

/** Appends one ledger row; `version` is the stock row's version after the movement. */
export async function recordMovement(
  trx: Transaction<InventoryTables>,
  productId: string,
  movement: Movement,
  version: number,
  at: Date,
): Promise<void> {
  await trx
    .insertInto('stock_movements')
    .values({
      product_id: productId,
      reason: movement.reason,
      actor: movement.actor,
      order_id: movement.orderId ?? null,
      available_delta: movement.available,
      reserved_delta: movement.reserved,
      sold_delta: movement.sold,
      version,
      created_at: at,
    })
    .execute();
}

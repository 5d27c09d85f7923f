import { AppError, buildEvent, type Logger } from '@shop/platform';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely, Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import type { InventoryTables } from '../tables.ts';
import {
  applyMovement,
  findStock,
  insertStock,
  lockStock,
  type Movement,
  markStockDeleted,
  recordMovement,
  type Stock,
} from './repository.ts';
import type { StockLevel } from './schemas.ts';

export type StockDeps = {
  db: Kysely<InventoryTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
};

export function toStockLevel(stock: Stock): StockLevel {
  return {
    productId: stock.productId,
    available: stock.available,
    reserved: stock.reserved,
    sold: stock.sold,
    version: stock.version,
  };
}

/** The strong entity tag of a stock version, as `ETag` carries it and `If-Match` must name it. */
export function entityTag(version: number): string {
  return `"${version}"`;
}

/** RFC 9110 If-Match with strong comparison: `*` or a list of tags, one of them the current one. */
function ifMatchHolds(ifMatch: string, version: number): boolean {
  const current = entityTag(version);
  return ifMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === current;
  });
}

async function announce(trx: Transaction<InventoryTables>, stock: Stock, at: Date) {
  await enqueueEvent(
    trx,
    buildEvent(
      'stock.changed',
      { ...toStockLevel(stock), changedAt: at.toISOString() },
      { source: serviceName },
    ),
  );
}

/**
 * Every change of a product's stock goes through here: the row (locked by the caller),
 * its ledger movement and, when the available count moved, its stock.changed event commit
 * together. A confirmed order's reserved units turning sold leave `available` as it was,
 * and `available` is all that catalog's replica and the back-in-stock alerts read: that
 * event would cost a publish, two deliveries and a cache invalidation for nothing.
 */
export async function moveStock(
  trx: Transaction<InventoryTables>,
  productId: string,
  movement: Movement,
  at: Date,
): Promise<Stock> {
  const stock = await applyMovement(trx, productId, movement, at);
  if (movement.available !== 0) await announce(trx, stock, at);
  return stock;
}

export async function getStockLevel(
  deps: Pick<StockDeps, 'db'>,
  productId: string,
): Promise<StockLevel> {
  const stock = await findStock(deps.db, productId);
  if (!stock) throw new AppError('not_found', 'no stock is kept for this product');
  return toStockLevel(stock);
}

/**
 * Sets the units available for sale, as an admin counted them. The difference is recorded
 * as a `restock` (more) or an `adjustment` (fewer); reserved and sold units are untouched.
 * With `ifMatch`, only the version it names is changed (412 otherwise).
 */
export async function setAvailable(
  deps: StockDeps,
  input: { productId: string; available: number; ifMatch: string | undefined; actor: string },
): Promise<StockLevel> {
  const at = new Date();
  const stock = await deps.db.transaction().execute(async (trx) => {
    const current = (await lockStock(trx, [input.productId])).get(input.productId);
    if (!current) throw new AppError('not_found', 'no stock is kept for this product');
    if (input.ifMatch !== undefined && !ifMatchHolds(input.ifMatch, current.version)) {
      throw new AppError(
        'precondition_failed',
        `the stock is at version ${current.version}, not the one If-Match names`,
      );
    }
    if (current.deletedAt) {
      throw new AppError('conflict', 'this product is deleted; its stock can no longer be set');
    }
    const delta = input.available - current.available;
    // Setting the count it already has changes nothing, so it is no movement.
    if (delta === 0) return current;
    return moveStock(
      trx,
      input.productId,
      {
        reason: delta > 0 ? 'restock' : 'adjustment',
        actor: input.actor,
        available: delta,
        reserved: 0,
        sold: 0,
      },
      at,
    );
  });
  deps.outbox.wake();
  return toStockLevel(stock);
}

/**
 * Opens a product's stock with its initial units, as the ledger's first movement; a
 * product that already has a row (a duplicate, or one deleted before it was created)
 * is left as it is.
 */
export async function openStock(
  trx: Transaction<InventoryTables>,
  input: { productId: string; initialStock: number; eventId: string },
  at: Date,
): Promise<'opened' | 'exists'> {
  const stock: Stock = {
    productId: input.productId,
    available: input.initialStock,
    reserved: 0,
    sold: 0,
    version: 1,
    deletedAt: null,
  };
  if ((await insertStock(trx, stock, at)) === 'exists') return 'exists';
  const initial: Movement = {
    reason: 'initial',
    actor: input.eventId,
    available: input.initialStock,
    reserved: 0,
    sold: 0,
  };
  await recordMovement(trx, stock.productId, initial, stock.version, at);
  await announce(trx, stock, at);
  return 'opened';
}

/**
 * Stops new reservations of a product; its counts stay, so reservations already made can
 * be committed or released. A deletion that overtakes its product.created leaves an empty,
 * deleted row behind, so the late creation cannot bring the product back to life.
 */
export async function closeStock(
  trx: Transaction<InventoryTables>,
  productId: string,
  at: Date,
): Promise<'closed' | 'already closed' | 'closed before creation'> {
  if (await markStockDeleted(trx, productId, at)) return 'closed';
  const tombstone: Stock = {
    productId,
    available: 0,
    reserved: 0,
    sold: 0,
    version: 1,
    deletedAt: at,
  };
  return (await insertStock(trx, tombstone, at)) === 'inserted'
    ? 'closed before creation'
    : 'already closed';
}

import { buildEvent } from '@shop/platform';
import { enqueueEvent } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import { lockStock, type Movement } from '../stock/repository.ts';
import { moveStock } from '../stock/service.ts';
import type { InventoryTables } from '../tables.ts';
import {
  claimReservation,
  findReservationLines,
  insertReservationLines,
  lockReservation,
  type ReservationLine,
  transitionReservation,
} from './repository.ts';

type Trx = Transaction<InventoryTables>;

/** Who caused a change: the event that carried it, for the order it belongs to. */
export type Cause = { eventId: string; orderId: string };

/**
 * An order's lines with one line per product (quantities of repeated products summed), in
 * product_id order. Ids are lower-cased as PostgreSQL prints a uuid, so a line matches its
 * stock row however the producer spelled it.
 */
function linesByProduct(items: readonly ReservationLine[]): ReservationLine[] {
  const totals = new Map<string, number>();
  for (const item of items) {
    const productId = item.productId.toLowerCase();
    totals.set(productId, (totals.get(productId) ?? 0) + item.quantity);
  }
  return [...totals]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

async function moveLines(
  trx: Trx,
  lines: readonly ReservationLine[],
  cause: Cause,
  movement: (quantity: number) => Omit<Movement, 'actor' | 'orderId'>,
  at: Date,
): Promise<void> {
  // Lock every row first, in product_id order, before changing any.
  await lockStock(
    trx,
    lines.map((line) => line.productId),
  );
  for (const line of lines) {
    await moveStock(
      trx,
      line.productId,
      { ...movement(line.quantity), actor: cause.eventId, orderId: cause.orderId },
      at,
    );
  }
}

/**
 * Reserves every line of the order or none. The stock rows are locked in product_id order
 * and checked under the lock, so concurrent orders neither deadlock nor oversell; a deleted
 * or unknown product counts as having nothing available. Publishes stock.reserved or
 * stock.rejected (naming each short line). An order that already has a reservation row —
 * a duplicate order.created, or one whose cancellation arrived first and left a tombstone —
 * is already decided: nothing is reserved and nothing published (orders has had its answer,
 * or has cancelled the order itself).
 */
export async function reserveOrder(
  trx: Trx,
  order: { items: readonly ReservationLine[] },
  cause: Cause,
  at: Date,
): Promise<'reserved' | 'rejected' | 'already decided'> {
  if (!(await claimReservation(trx, cause.orderId, 'reserved', at))) return 'already decided';
  const lines = linesByProduct(order.items);
  const stock = await lockStock(
    trx,
    lines.map((line) => line.productId),
  );
  const shortages = lines
    .map((line) => {
      const row = stock.get(line.productId);
      const available = row && !row.deletedAt ? row.available : 0;
      return { productId: line.productId, requested: line.quantity, available };
    })
    .filter((line) => line.available < line.requested);

  if (shortages.length > 0) {
    await transitionReservation(trx, cause.orderId, 'reserved', 'rejected', at);
    const data = { orderId: cause.orderId, shortages, rejectedAt: at.toISOString() };
    await enqueueEvent(trx, buildEvent('stock.rejected', data, { source: serviceName }));
    return 'rejected';
  }
  await insertReservationLines(trx, cause.orderId, lines);
  for (const line of lines) {
    await moveStock(
      trx,
      line.productId,
      {
        reason: 'reserve',
        actor: cause.eventId,
        orderId: cause.orderId,
        available: -line.quantity,
        reserved: line.quantity,
        sold: 0,
      },
      at,
    );
  }
  const data = { orderId: cause.orderId, items: lines, reservedAt: at.toISOString() };
  await enqueueEvent(trx, buildEvent('stock.reserved', data, { source: serviceName }));
  return 'reserved';
}

/**
 * Turns the order's reserved units into sold ones, once. An order with no live
 * reservation (rejected, released, already committed, or unknown) changes nothing.
 */
export async function commitOrder(
  trx: Trx,
  cause: Cause,
  at: Date,
): Promise<'committed' | 'nothing reserved'> {
  if (!(await transitionReservation(trx, cause.orderId, 'reserved', 'committed', at))) {
    return 'nothing reserved';
  }
  const lines = await findReservationLines(trx, cause.orderId);
  await moveLines(
    trx,
    lines,
    cause,
    (quantity) => ({ reason: 'commit', available: 0, reserved: -quantity, sold: quantity }),
    at,
  );
  return 'committed';
}

/**
 * Gives the order's units back to available, once: reserved ones, or sold ones when a
 * confirmed (paid) order is cancelled, so stock stays conserved (invariant 1). A
 * cancellation that arrives before its order.created leaves a `released` tombstone, so
 * the late order.created reserves nothing.
 */
export async function releaseOrder(
  trx: Trx,
  cause: Cause,
  at: Date,
): Promise<'released' | 'released before creation' | 'nothing to release'> {
  if (await claimReservation(trx, cause.orderId, 'released', at)) {
    return 'released before creation';
  }
  const status = await lockReservation(trx, cause.orderId);
  if (status !== 'reserved' && status !== 'committed') return 'nothing to release';
  await transitionReservation(trx, cause.orderId, status, 'released', at);
  const lines = await findReservationLines(trx, cause.orderId);
  await moveLines(
    trx,
    lines,
    cause,
    (quantity) =>
      status === 'reserved'
        ? { reason: 'release', available: quantity, reserved: -quantity, sold: 0 }
        : { reason: 'release', available: quantity, reserved: 0, sold: -quantity },
    at,
  );
  return 'released';
}

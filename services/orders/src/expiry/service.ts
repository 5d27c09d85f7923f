import type { Logger } from '@shop/platform';
import type { OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import type { OrderMetrics } from '../orders/metrics.ts';
import { lockExpiredPendingOrders } from '../orders/repository.ts';
import { cancelOrder, type Settlement } from '../orders/transitions.ts';
import type { OrdersTables } from '../tables.ts';

export type ExpiryDeps = {
  db: Kysely<OrdersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
  metrics: OrderMetrics;
};

/** Small, so a batch's locks are held briefly and a sweep on another replica finds the rest. */
const batchSize = 20;

/**
 * Cancels, as `expired`, every order still pending that was placed before `placedBefore`;
 * order.cancelled makes inventory release the reservation and payments refund any charge.
 * Safe to run on every replica at once: each batch locks its orders with SKIP LOCKED, and
 * the cancellation is conditional, so an order that an event settled meanwhile, or another
 * sweep took, is left alone. Returns how many orders this sweep cancelled.
 */
export async function expirePendingOrders(deps: ExpiryDeps, placedBefore: Date): Promise<number> {
  let expired = 0;
  for (;;) {
    const { locked, cancelled } = await deps.db.transaction().execute(async (trx) => {
      const ids = await lockExpiredPendingOrders(trx, placedBefore, batchSize);
      const settled: Settlement[] = [];
      for (const id of ids) {
        const cancellation = await cancelOrder(trx, id, 'expired', new Date());
        if (cancellation) settled.push(cancellation);
      }
      return { locked: ids.length, cancelled: settled };
    });
    for (const settlement of cancelled) deps.metrics.settled(settlement);
    expired += cancelled.length;
    if (locked < batchSize) break;
  }
  if (expired > 0) {
    deps.outbox.wake();
    deps.logger.info('pending orders expired', {
      expired,
      placedBefore: placedBefore.toISOString(),
    });
  }
  return expired;
}

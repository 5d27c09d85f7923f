import type { Kysely, Transaction } from 'kysely';
import { type PlatformTables, platformView } from './platform-tables.ts';

export type EventReceipt = {
  /** Who applies the event, e.g. `inventory.reserve-stock`; each consumer applies an event once. */
  consumer: string;
  eventId: string;
};

/**
 * Runs `effect` once per (consumer, event id): the receipt and the effect commit in one
 * transaction, so a redelivered or concurrently delivered duplicate finds the receipt
 * and changes nothing. If `effect` throws, neither is kept and the error propagates
 * (answer RETRY).
 *
 * @example
 * const outcome = await handleEventOnce(db, { consumer: 'notifications.welcome', eventId: event.id }, async (trx) => {
 *   await insertNotification(trx, welcomeFor(event.data));
 * });
 * return 'SUCCESS'; // 'applied' and 'duplicate' both mean the event has taken effect
 */
export async function handleEventOnce<DB extends PlatformTables>(
  db: Kysely<DB>,
  receipt: EventReceipt,
  effect: (trx: Transaction<DB>) => Promise<void>,
): Promise<'applied' | 'duplicate'> {
  return db.transaction().execute(async (trx) => {
    // A concurrent duplicate blocks here on the key until the first commits (then it
    // conflicts) or rolls back (then it goes ahead), so the effect can never run twice.
    const inserted = await platformView(trx)
      .insertInto('processed_events')
      .values({ consumer: receipt.consumer, event_id: receipt.eventId })
      .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n) return 'duplicate';
    await effect(trx);
    return 'applied';
  });
}

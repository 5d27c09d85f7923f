import { type Kysely, sql, type Transaction } from 'kysely';
import type { ShopEvent } from '../events/cloud-event.ts';
import { type PlatformTables, platformView } from './platform-tables.ts';

// The outbox's queries, each a plain function of `db`; outbox-relay.ts decides when to run
// them. Times in SQL are the database's, so replicas with skewed clocks agree on leases.

/**
 * Records `event` for publishing inside the caller's transaction, so it is sent if and
 * only if the transaction commits. The event keeps its id through every retry.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await insertOrder(trx, order);
 *   await enqueueEvent(trx, buildEvent('order.created', data, { source: 'orders' }));
 * });
 * relay.wake();
 */
export async function enqueueEvent<DB extends PlatformTables>(
  trx: Transaction<DB>,
  event: ShopEvent,
): Promise<void> {
  await platformView(trx)
    .insertInto('outbox')
    .values({ event_id: event.id, type: event.type, event: JSON.stringify(event) })
    .execute();
}

/** An unsent row this relay holds for the length of its lease. */
export type ClaimedRow = { event_id: string; event: ShopEvent; attempts: number };

const secondsFrom = (ms: number) => ms / 1_000;

/**
 * Leases up to `batchSize` unsent rows nobody else holds, oldest first. `SKIP LOCKED`
 * lets replicas claim side by side without waiting on or taking each other's rows.
 */
export function claimBatch(
  db: Kysely<PlatformTables>,
  batch: { batchSize: number; leaseMs: number },
): Promise<ClaimedRow[]> {
  const leaseSeconds = secondsFrom(batch.leaseMs);
  return db
    .with('claimed', (qc) =>
      qc
        .updateTable('outbox')
        .set({ claimed_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
        .where('event_id', 'in', (qb) =>
          qb
            .selectFrom('outbox')
            .select('event_id')
            .where('sent_at', 'is', null)
            .where((eb) =>
              eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]),
            )
            .orderBy('position')
            .limit(batch.batchSize)
            .forUpdate()
            .skipLocked(),
        )
        .returning(['position', 'event_id', 'event', 'attempts']),
    )
    .selectFrom('claimed')
    .select(['event_id', 'event', 'attempts'])
    .orderBy('position')
    .execute();
}

/** Marks rows the broker accepted as sent, which also ends their lease. */
export async function markSent(db: Kysely<PlatformTables>, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db
    .updateTable('outbox')
    .set({ sent_at: sql<Date>`now()`, claimed_until: null })
    .where('event_id', 'in', eventIds)
    .execute();
}

/** Records a refused publish on its row (attempts so far, the error) and frees the row. */
export async function recordFailure(
  db: Kysely<PlatformTables>,
  failure: { eventId: string; attempts: number; error: unknown },
): Promise<void> {
  const { error } = failure;
  const message = error instanceof Error ? error.message : String(error);
  await db
    .updateTable('outbox')
    .set({ attempts: failure.attempts, last_error: message.slice(0, 2_000), claimed_until: null })
    .where('event_id', '=', failure.eventId)
    .execute();
}

/** Gives claimed rows back before their lease ends, so the next pass takes them in order. */
export async function releaseClaims(db: Kysely<PlatformTables>, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db
    .updateTable('outbox')
    .set({ claimed_until: null })
    .where('event_id', 'in', eventIds)
    .execute();
}

/** Deletes rows sent longer than `retentionMs` ago; how many it deleted. */
export async function purgeSent(db: Kysely<PlatformTables>, retentionMs: number): Promise<number> {
  const retentionSeconds = secondsFrom(retentionMs);
  const { numDeletedRows } = await db
    .deleteFrom('outbox')
    .where('sent_at', '<', sql<Date>`now() - make_interval(secs => ${retentionSeconds})`)
    .executeTakeFirst();
  return Number(numDeletedRows);
}

/** Rows not sent yet, whoever holds them. */
export async function countUnsent(db: Kysely<PlatformTables>): Promise<number> {
  const unsent = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('sent_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(unsent.count);
}

/**
 * Rows not sent yet and the age in seconds of the oldest of them (0 when none), in one
 * query, by the database's clock (the one `created_at` was written with).
 */
export async function unsentBacklog(
  db: Kysely<PlatformTables>,
): Promise<{ count: number; oldestAgeSeconds: number }> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [
      eb.fn.countAll<number>().as('count'),
      sql<number | null>`extract(epoch from now() - min(created_at))`.as('oldest_age'),
    ])
    .where('sent_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldestAgeSeconds: Math.max(0, Number(row.oldest_age ?? 0)) };
}

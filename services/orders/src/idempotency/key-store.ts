import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '@shop/platform';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { OrdersTables } from '../tables.ts';

/** A key is one user's: two users choosing the same key never meet. */
export type KeyScope = { userId: string; key: string };

/** The first answer to a key's request, replayed to every repeat of it. */
export type StoredAnswer = { status: number; body: unknown; location: string | null };

export type KeyClaim =
  | { outcome: 'claimed'; attemptId: string }
  | { outcome: 'replay'; answer: StoredAnswer }
  | { outcome: 'in_flight' }
  | { outcome: 'mismatch' };

/** How long the key store keeps a key (the draft's suggested minimum is a day). */
export const keyRetentionSeconds = 24 * 3600;

/**
 * How long an attempt may hold a key before another request with it may take over: a
 * process that died mid-request must not block its key for a day. Far longer than any
 * attempt takes (catalog calls time out after seconds), and a late attempt still cannot
 * complete a key it lost (it answers 409), so a takeover never yields a second order.
 */
const abandonedAfterSeconds = 120;

/**
 * The request's fingerprint: SHA-256 of its validated body as canonical JSON (keys sorted),
 * so whitespace and key order do not make "the same body" different.
 */
export function requestFingerprint(body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

/**
 * Claims a key for one attempt, or says what became of it. The claim is an INSERT of its
 * own that commits at once, with (user_id, key) as primary key: of two concurrent
 * requests with one key exactly one inserts, and the other reads the row — in flight (409),
 * another body (422) or the stored answer (replay). Nothing else is written until the
 * claiming attempt completes the key in the transaction that creates the order.
 */
export async function claimKey(
  db: Kysely<OrdersTables>,
  scope: KeyScope,
  requestHash: string,
): Promise<KeyClaim> {
  const attemptId = randomUUID();
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      user_id: scope.userId,
      key: scope.key,
      request_hash: requestHash,
      status: 'in_flight',
      attempt_id: attemptId,
      locked_at: sql<Date>`now()`,
      response_status: null,
      response_location: null,
      response_body: null,
    })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('attempt_id')
    .executeTakeFirst();
  if (inserted) return { outcome: 'claimed', attemptId };

  const takenOver = await db
    .updateTable('idempotency_keys')
    .set({ attempt_id: attemptId, locked_at: sql<Date>`now()` })
    .where('user_id', '=', scope.userId)
    .where('key', '=', scope.key)
    .where('status', '=', 'in_flight')
    .where('request_hash', '=', requestHash)
    .where('locked_at', '<', sql<Date>`now() - make_interval(secs => ${abandonedAfterSeconds})`)
    .returning('attempt_id')
    .executeTakeFirst();
  if (takenOver) return { outcome: 'claimed', attemptId };

  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', scope.userId)
    .where('key', '=', scope.key)
    .executeTakeFirst();
  // Released by a failed attempt (or purged) between the insert and this read: try afresh.
  if (!row) return claimKey(db, scope, requestHash);
  if (row.request_hash !== requestHash) return { outcome: 'mismatch' };
  if (row.status === 'in_flight') return { outcome: 'in_flight' };
  return {
    outcome: 'replay',
    answer: {
      status: row.response_status ?? 500,
      body: row.response_body,
      location: row.response_location,
    },
  };
}

/**
 * Stores the answer, in the transaction that made it: the order and its key commit
 * together or not at all. Throws (rolling that transaction back) when this attempt no
 * longer holds the key, so one key never yields two orders.
 */
export async function completeKey(
  trx: Transaction<OrdersTables>,
  scope: KeyScope,
  attemptId: string,
  answer: StoredAnswer,
): Promise<void> {
  const completed = await trx
    .updateTable('idempotency_keys')
    .set({
      status: 'completed',
      response_status: answer.status,
      response_location: answer.location,
      response_body: JSON.stringify(answer.body),
    })
    .where('user_id', '=', scope.userId)
    .where('key', '=', scope.key)
    .where('attempt_id', '=', attemptId)
    .where('status', '=', 'in_flight')
    .executeTakeFirst();
  if (completed.numUpdatedRows === 0n) {
    throw new AppError(
      'conflict',
      'another request with this Idempotency-Key took it over; this one placed nothing',
    );
  }
}

/**
 * Gives the key up after an attempt that placed nothing (bad input found late, the catalog
 * unreachable), so the client may retry with the same key.
 */
export async function releaseKey(
  db: Kysely<OrdersTables>,
  scope: KeyScope,
  attemptId: string,
): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', scope.userId)
    .where('key', '=', scope.key)
    .where('attempt_id', '=', attemptId)
    .where('status', '=', 'in_flight')
    .execute();
}

/** Forgets keys past their retention; a key used again after that places a new order. */
export async function purgeExpiredKeys(db: Kysely<OrdersTables>): Promise<number> {
  const { numDeletedRows } = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${keyRetentionSeconds})`)
    .executeTakeFirst();
  return Number(numDeletedRows);
}

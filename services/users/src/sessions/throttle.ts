import { AppError } from '@shop/platform';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { UsersTables } from '../tables.ts';

/**
 * Login attempts are counted over a 15-minute window under three keys, and each attempt is
 * counted (reserved) before its password is checked, so a burst of parallel guesses cannot
 * all slip past the count:
 * - one account from one address (`pair`): the guesser's own budget. After 5 attempts
 *   without a success each further one waits 2, 4, 8 … s, at most a minute. An attacker's
 *   address slows only itself, so the owner elsewhere is not locked out.
 * - one account from anywhere (`account`): a guess spread over many addresses stops at 100
 *   for the rest of the window, for everyone; the price of stopping a distributed guess.
 * - one address across accounts (`address`): password spraying stops at 30.
 * A success forgets the pair and does not count against the other two.
 */
export const throttlePolicy = {
  windowSeconds: 15 * 60,
  pair: { attempts: 5, maxBlockSeconds: 60 },
  account: { attempts: 100 },
  address: { attempts: 30 },
} as const;

type Key = { key: string; attempts: number; blockSeconds: ReturnType<typeof sql<number>> };

function keysFor(email: string, address: string | undefined): Key[] {
  const { windowSeconds, pair, account, address: perAddress } = throttlePolicy;
  const from = address ?? 'unknown';
  // Seconds left in the key's window: a limit per window is lifted when its window ends.
  const restOfWindow = sql<number>`extract(epoch from login_throttle.window_started_at + make_interval(secs => ${windowSeconds}) - now())::float8`;
  const keys: Key[] = [
    {
      key: `pair:${email}|${from}`,
      attempts: pair.attempts,
      // This attempt is number failures + 1: the first one over the limit waits 2 s.
      blockSeconds: sql<number>`least(${pair.maxBlockSeconds}, power(2, login_throttle.failures + 1 - ${pair.attempts}))::float8`,
    },
    { key: `account:${email}`, attempts: account.attempts, blockSeconds: restOfWindow },
  ];
  if (address)
    keys.push({
      key: `address:${address}`,
      attempts: perAddress.attempts,
      blockSeconds: restOfWindow,
    });
  return keys;
}

async function secondsBlocked(db: Transaction<UsersTables>, key: string): Promise<number> {
  const row = await db
    .selectFrom('login_throttle')
    .select(sql<number>`ceil(extract(epoch from blocked_until - now()))`.as('wait'))
    .where('key', '=', key)
    .executeTakeFirst();
  return Math.max(1, Number(row?.wait ?? 1));
}

/**
 * Counts one attempt under each key, unless a key is blocked: then nothing more is counted
 * and the answer is 429. One statement per key, so concurrent attempts queue on the row.
 */
export async function reserveLoginAttempt(
  db: Kysely<UsersTables>,
  email: string,
  address: string | undefined,
): Promise<void> {
  const window = throttlePolicy.windowSeconds;
  // All keys or none: an attempt refused under one key must not count under the others.
  await db.transaction().execute(async (trx) => {
    for (const { key, attempts, blockSeconds } of keysFor(email, address)) {
      const expired = sql<boolean>`login_throttle.window_started_at < now() - make_interval(secs => ${window})`;
      const counted = await trx
        .insertInto('login_throttle')
        .values({ key, failures: 1, window_started_at: sql<Date>`now()`, blocked_until: null })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({
              failures: sql<number>`case when ${expired} then 1 else login_throttle.failures + 1 end`,
              window_started_at: sql<Date>`case when ${expired} then now() else login_throttle.window_started_at end`,
              // The attempt that goes over the limit is still checked; the ones after it wait.
              blocked_until: sql<Date>`case when not ${expired} and login_throttle.failures + 1 > ${attempts}
              then now() + make_interval(secs => ${sql`(${blockSeconds})`}) else null end`,
            })
            .where((eb) =>
              eb.or([
                eb('login_throttle.blocked_until', 'is', null),
                eb('login_throttle.blocked_until', '<=', sql<Date>`now()`),
              ]),
            ),
        )
        .returning('failures')
        .executeTakeFirst();
      if (!counted) {
        const wait = await secondsBlocked(trx, key);
        throw new AppError('rate_limited', 'too many login attempts; try again later', {
          headers: {
            'retry-after': String(wait),
            'ratelimit-policy': `"login";q=${attempts};w=${window}`,
            ratelimit: `"login";r=0;t=${wait}`,
          },
        });
      }
    }
  });
}

/** A success: the pair starts afresh and the attempt no longer counts for the account or address. */
export async function recordSuccessfulLogin(
  db: Kysely<UsersTables>,
  email: string,
  address: string | undefined,
): Promise<void> {
  const [pair, ...shared] = keysFor(email, address);
  if (pair) await db.deleteFrom('login_throttle').where('key', '=', pair.key).execute();
  for (const { key, attempts } of shared) {
    // Back under its limit, a key blocks nothing: a success must not leave a block behind.
    await db
      .updateTable('login_throttle')
      .set({
        failures: sql<number>`greatest(failures - 1, 0)`,
        blocked_until: sql<Date | null>`case when failures - 1 <= ${attempts} then null else blocked_until end`,
      })
      .where('key', '=', key)
      .execute();
  }
}

/** Forgets counters whose window has long passed and that block nothing. */
export async function purgeThrottle(db: Kysely<UsersTables>): Promise<void> {
  await db
    .deleteFrom('login_throttle')
    .where(
      'window_started_at',
      '<',
      sql<Date>`now() - make_interval(secs => ${throttlePolicy.windowSeconds * 2})`,
    )
    .where((eb) =>
      eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', sql<Date>`now()`)]),
    )
    .execute();
}

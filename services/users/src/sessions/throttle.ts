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
 *   for the rest of the window, for every login without a device token of the account
 *   (see device-tokens.ts); the owner's known devices still get in.
 * - one address across accounts (`address`): password spraying stops at 30.
 * A success forgets the pair and does not count against the other two.
 */
export const throttlePolicy = {
  windowSeconds: 15 * 60,
  pair: { attempts: 5, maxBlockSeconds: 60 },
  account: { attempts: 100 },
  address: { attempts: 30 },
} as const;

export type ThrottlePolicy = {
  windowSeconds: number;
  pair: { attempts: number; maxBlockSeconds: number };
  account: { attempts: number };
  address: { attempts: number };
};

/** One login attempt, as the throttle sees it. */
export type LoginAttempt = {
  email: string;
  address: string | undefined;
  /** It presented a live device token of the account: the account-wide cap does not apply. */
  trustedDevice: boolean;
  /** The throttle's clock, injected so tests can move through windows. */
  now: Date;
};

/** The account-wide cap tripped with this attempt: logins without a device token wait. */
export type AccountLock = { until: Date; attempts: number };

type Key = {
  kind: 'pair' | 'account' | 'address';
  key: string;
  attempts: number;
  windowSeconds: number;
  blockSeconds: ReturnType<typeof sql<number>>;
};

const at = (now: Date) => sql<Date>`${now}::timestamptz`;

function keysFor(attempt: LoginAttempt, policy: ThrottlePolicy): Key[] {
  const { email, address, trustedDevice, now } = attempt;
  const { windowSeconds, pair, account, address: perAddress } = policy;
  const from = address ?? 'unknown';
  // Seconds left in the key's window: a limit per window is lifted when its window ends.
  const restOfWindow = sql<number>`extract(epoch from login_throttle.window_started_at + make_interval(secs => ${windowSeconds}) - ${at(now)})::float8`;
  const keys: Key[] = [
    {
      kind: 'pair',
      key: `pair:${email}|${from}`,
      attempts: pair.attempts,
      windowSeconds,
      // This attempt is number failures + 1: the first one over the limit waits 2 s.
      blockSeconds: sql<number>`least(${pair.maxBlockSeconds}, power(2, login_throttle.failures + 1 - ${pair.attempts}))::float8`,
    },
  ];
  if (!trustedDevice) {
    keys.push({
      kind: 'account',
      key: accountKey(email),
      attempts: account.attempts,
      windowSeconds,
      blockSeconds: restOfWindow,
    });
  }
  if (address)
    keys.push({
      kind: 'address',
      key: `address:${address}`,
      attempts: perAddress.attempts,
      windowSeconds,
      blockSeconds: restOfWindow,
    });
  return keys;
}

const accountKey = (email: string) => `account:${email}`;

async function secondsBlocked(db: Transaction<UsersTables>, key: string, now: Date) {
  const row = await db
    .selectFrom('login_throttle')
    .select(sql<number>`ceil(extract(epoch from blocked_until - ${at(now)}))`.as('wait'))
    .where('key', '=', key)
    .executeTakeFirst();
  return Math.max(1, Number(row?.wait ?? 1));
}

function rateLimited({ attempts, windowSeconds }: Key, wait: number): AppError {
  return new AppError('rate_limited', 'too many login attempts; try again later', {
    headers: {
      'retry-after': String(wait),
      'ratelimit-policy': `"login";q=${attempts};w=${windowSeconds}`,
      ratelimit: `"login";r=0;t=${wait}`,
    },
  });
}

/** Counts one attempt under the key; undefined when the key is blocked. */
async function countUnder(trx: Transaction<UsersTables>, key: Key, now: Date) {
  const window = key.windowSeconds;
  const expired = sql<boolean>`login_throttle.window_started_at < ${at(now)} - make_interval(secs => ${window})`;
  return trx
    .insertInto('login_throttle')
    .values({ key: key.key, failures: 1, window_started_at: now, blocked_until: null })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({
          failures: sql<number>`case when ${expired} then 1 else login_throttle.failures + 1 end`,
          window_started_at: sql<Date>`case when ${expired} then ${at(now)} else login_throttle.window_started_at end`,
          // The attempt that goes over the limit is still checked; the ones after it wait.
          blocked_until: sql<Date>`case when not ${expired} and login_throttle.failures + 1 > ${key.attempts}
              then ${at(now)} + make_interval(secs => ${sql`(${key.blockSeconds})`}) else null end`,
        })
        .where((eb) =>
          eb.or([
            eb('login_throttle.blocked_until', 'is', null),
            eb('login_throttle.blocked_until', '<=', now),
          ]),
        ),
    )
    .returning(['failures', 'blocked_until'])
    .executeTakeFirst();
}

/**
 * Counts one attempt under each key, unless a key is blocked: then nothing more is counted
 * and the answer is 429. One statement per key, so concurrent attempts queue on the row.
 * Returns the account's lock when this attempt tripped the account-wide cap.
 */
export async function reserveLoginAttempt(
  db: Kysely<UsersTables>,
  attempt: LoginAttempt,
  policy: ThrottlePolicy = throttlePolicy,
): Promise<AccountLock | undefined> {
  // All keys or none: an attempt refused under one key must not count under the others.
  return db.transaction().execute(async (trx) => {
    let lock: AccountLock | undefined;
    for (const key of keysFor(attempt, policy)) {
      const counted = await countUnder(trx, key, attempt.now);
      if (!counted) throw rateLimited(key, await secondsBlocked(trx, key.key, attempt.now));
      if (key.kind === 'account' && counted.blocked_until) {
        lock = { until: counted.blocked_until, attempts: counted.failures };
      }
    }
    return lock;
  });
}

/**
 * Marks the account's current window as reported; false when it already was, so the owner
 * hears about a lockout once per window however often the cap trips in it.
 */
export async function claimLockReport(db: Transaction<UsersTables>, email: string) {
  const claimed = await db
    .updateTable('login_throttle')
    .set({ lock_reported_for: sql<Date>`window_started_at` })
    .where('key', '=', accountKey(email))
    .where(sql<boolean>`lock_reported_for is distinct from window_started_at`)
    .executeTakeFirst();
  return claimed.numUpdatedRows > 0n;
}

/** A success: the pair starts afresh and the attempt no longer counts for the account or address. */
export async function recordSuccessfulLogin(
  db: Kysely<UsersTables>,
  attempt: LoginAttempt,
  policy: ThrottlePolicy = throttlePolicy,
): Promise<void> {
  const [pair, ...shared] = keysFor(attempt, policy);
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
export async function purgeThrottle(
  db: Kysely<UsersTables>,
  now: Date,
  policy: ThrottlePolicy = throttlePolicy,
): Promise<void> {
  const longAgo = new Date(now.getTime() - policy.windowSeconds * 2 * 1000);
  await db
    .deleteFrom('login_throttle')
    .where('window_started_at', '<', longAgo)
    .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', now)]))
    .execute();
}

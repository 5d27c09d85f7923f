import { AppError } from '@shop/platform';
import { type Kysely, sql } from 'kysely';
import type { UsersTables } from '../tables.ts';

/**
 * Failed logins are counted per account (the email as typed, known or not, so the answer
 * says nothing about which emails exist) and per client address, over a 15-minute window.
 * An account is slowed, not locked: after 5 failures each further one blocks it for
 * 2, 4, 8 ... seconds, capped at a minute, so a guesser gets ~60 tries an hour while the
 * owner waits at most a minute. An address gets 30 failures per window across all accounts.
 */
export const throttlePolicy = {
  windowSeconds: 15 * 60,
  account: { freeFailures: 5, maxBlockSeconds: 60 },
  address: { freeFailures: 30 },
} as const;

type Keys = { account: string; address: string | undefined };

const keysFor = (email: string, address: string | undefined): Keys => ({
  account: `account:${email}`,
  address: address ? `address:${address}` : undefined,
});

/** Throws 429 with Retry-After while either the account or the address is blocked. */
export async function assertNotThrottled(
  db: Kysely<UsersTables>,
  email: string,
  address: string | undefined,
): Promise<void> {
  const { account, address: addressKey } = keysFor(email, address);
  const row = await db
    .selectFrom('login_throttle')
    .select(sql<number>`ceil(extract(epoch from max(blocked_until) - now()))`.as('wait'))
    .where('key', 'in', addressKey ? [account, addressKey] : [account])
    .where('blocked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  const wait = Number(row?.wait ?? 0);
  if (wait > 0) {
    throw new AppError('rate_limited', 'too many failed logins; try again later', {
      headers: { 'retry-after': String(wait) },
    });
  }
}

async function countFailure(db: Kysely<UsersTables>, key: string): Promise<number> {
  const window = throttlePolicy.windowSeconds;
  const row = await db
    .insertInto('login_throttle')
    .values({ key, failures: 1, window_started_at: sql<Date>`now()`, blocked_until: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttle.window_started_at < now() - make_interval(secs => ${window}) then 1 else login_throttle.failures + 1 end`,
        window_started_at: sql<Date>`case when login_throttle.window_started_at < now() - make_interval(secs => ${window}) then now() else login_throttle.window_started_at end`,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  return row.failures;
}

async function blockFor(db: Kysely<UsersTables>, key: string, seconds: number): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ blocked_until: sql<Date>`now() + make_interval(secs => ${seconds})` })
    .where('key', '=', key)
    .execute();
}

export async function recordFailedLogin(
  db: Kysely<UsersTables>,
  email: string,
  address: string | undefined,
): Promise<void> {
  const keys = keysFor(email, address);
  const accountFailures = await countFailure(db, keys.account);
  const over = accountFailures - throttlePolicy.account.freeFailures;
  if (over >= 0) {
    await blockFor(
      db,
      keys.account,
      Math.min(2 ** (over + 1), throttlePolicy.account.maxBlockSeconds),
    );
  }
  if (keys.address) {
    const addressFailures = await countFailure(db, keys.address);
    if (addressFailures >= throttlePolicy.address.freeFailures) {
      await blockFor(db, keys.address, throttlePolicy.windowSeconds);
    }
  }
}

export async function clearAccountFailures(db: Kysely<UsersTables>, email: string): Promise<void> {
  await db
    .deleteFrom('login_throttle')
    .where('key', '=', keysFor(email, undefined).account)
    .execute();
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

import { type Kysely, sql, type Transaction } from 'kysely';
import type { UsersTables } from '../tables.ts';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.ts';

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/**
 * Device tokens are OWASP's "device cookies": a successful login hands one out, and a later
 * login of the same account that presents it is not stopped by the account-wide cap, so
 * strangers guessing at an account cannot lock its owner out of the devices it already
 * uses. Wrong passwords presented with a token count against it; at `maxFailures` it is
 * revoked, so a stolen token buys a few guesses, not a way around the cap.
 */
export type DeviceTokenPolicy = { ttlSeconds: number; maxFailures: number };

/** Beyond this many live devices per account the oldest is forgotten, so a client that
 * never keeps its token cannot grow the table without end. */
export const maxDevicesPerAccount = 20;

export async function issueDeviceToken(
  db: Db,
  userId: string,
  ttlSeconds: number,
  now: Date,
): Promise<string> {
  const { token, hash } = newOpaqueToken();
  await db
    .insertInto('device_tokens')
    .values({
      token_hash: hash,
      user_id: userId,
      created_at: now,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
      revoked_at: null,
      revoke_reason: null,
    })
    .execute();
  await db
    .deleteFrom('device_tokens')
    .where('user_id', '=', userId)
    .where('token_hash', 'not in', (qb) =>
      qb
        .selectFrom('device_tokens')
        .select('token_hash')
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('token_hash')
        .limit(maxDevicesPerAccount),
    )
    .execute();
  return token;
}

/**
 * The stored hash of `token` if it is live and belongs to the account with this email;
 * a token of another account, expired or revoked gives nothing.
 */
export async function findTrustedDevice(
  db: Db,
  token: string,
  email: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('device_tokens')
    .innerJoin('users', 'users.id', 'device_tokens.user_id')
    .select('device_tokens.token_hash')
    .where('device_tokens.token_hash', '=', hashOpaqueToken(token))
    .where('users.email', '=', email)
    .where('device_tokens.revoked_at', 'is', null)
    .where('device_tokens.expires_at', '>', now)
    .executeTakeFirst();
  return row?.token_hash;
}

/** Counts a wrong password presented with the token; true when this one revoked it. */
export async function recordDeviceFailure(
  db: Db,
  hash: string,
  maxFailures: number,
  now: Date,
): Promise<boolean> {
  const exhausted = sql<boolean>`device_tokens.failures + 1 >= ${maxFailures}`;
  const row = await db
    .updateTable('device_tokens')
    .set({
      failures: sql<number>`device_tokens.failures + 1`,
      revoked_at: sql<Date | null>`case when ${exhausted} then ${now}::timestamptz end`,
      revoke_reason: sql<'failures' | null>`case when ${exhausted} then 'failures' end`,
    })
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .returning('revoked_at')
    .executeTakeFirst();
  return row?.revoked_at != null;
}

/**
 * The owner got in with the token: earlier wrong passwords were the owner's typos. False
 * when the token was revoked meanwhile (by a concurrent wrong password or a logout).
 */
export async function resetDeviceFailures(db: Db, hash: string): Promise<boolean> {
  const reset = await db
    .updateTable('device_tokens')
    .set({ failures: 0 })
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return reset.numUpdatedRows > 0n;
}

/** Revokes one of this user's device tokens; someone else's token is left alone. */
export async function revokeDeviceToken(
  db: Db,
  token: string,
  userId: string,
  now: Date,
): Promise<boolean> {
  const revoked = await db
    .updateTable('device_tokens')
    .set({ revoked_at: now, revoke_reason: 'logout' })
    .where('token_hash', '=', hashOpaqueToken(token))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return revoked.numUpdatedRows > 0n;
}

/** Revokes every device token of the user; returns how many were live. */
export async function revokeUserDevices(db: Db, userId: string, now: Date): Promise<number> {
  const revoked = await db
    .updateTable('device_tokens')
    .set({ revoked_at: now, revoke_reason: 'user' })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(revoked.numUpdatedRows);
}

/** Deletes expired and revoked device tokens: gone, they are refused just the same. */
export async function purgeDeviceTokens(db: Db, now: Date): Promise<number> {
  const purged = await db
    .deleteFrom('device_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(purged.numDeletedRows);
}

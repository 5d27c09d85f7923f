import { type Kysely, sql, type Transaction } from 'kysely';
import { hashOpaqueToken, newOpaqueToken } from '../sessions/opaque-tokens.ts';
import type { AccountTokenPurpose, UsersTables } from '../tables.ts';

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** How long a mailed link stays usable: a reset briefly, a verification for a day. */
export const accountTokenTtlSeconds: Record<AccountTokenPurpose, number> = {
  password_reset: 30 * 60,
  email_verification: 24 * 3600,
};

export type IssuedAccountToken = { token: string; expiresAt: Date };

/**
 * Stores the hash of a new single-use token for the user and forgets the user's unused
 * ones for the same purpose, so only the latest link mailed works.
 */
export async function issueAccountToken(
  db: Db,
  userId: string,
  purpose: AccountTokenPurpose,
  now: Date,
): Promise<IssuedAccountToken> {
  await discardUnusedTokens(db, userId, purpose);
  const { token, hash } = newOpaqueToken();
  const expiresAt = new Date(now.getTime() + accountTokenTtlSeconds[purpose] * 1000);
  await db
    .insertInto('account_tokens')
    .values({
      token_hash: hash,
      user_id: userId,
      purpose,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * Stores a new token for the active account with this email, if there is one: one INSERT
 * … SELECT that runs whether or not there is, so the work does not tell the two apart.
 */
export async function issueTokenForActiveAccount(
  db: Db,
  email: string,
  purpose: AccountTokenPurpose,
  now: Date,
): Promise<IssuedAccountToken | undefined> {
  const { token, hash } = newOpaqueToken();
  const expiresAt = new Date(now.getTime() + accountTokenTtlSeconds[purpose] * 1000);
  const inserted = await db
    .insertInto('account_tokens')
    .columns(['token_hash', 'user_id', 'purpose', 'created_at', 'expires_at'])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .select([
          sql<string>`${hash}::text`.as('token_hash'),
          'users.id',
          sql<AccountTokenPurpose>`${purpose}::text`.as('purpose'),
          sql<Date>`${now}::timestamptz`.as('created_at'),
          sql<Date>`${expiresAt}::timestamptz`.as('expires_at'),
        ])
        .where('users.email', '=', email)
        .where('users.status', '=', 'active'),
    )
    .returning('user_id')
    .executeTakeFirst();
  return inserted && { token, expiresAt };
}

export async function discardUnusedTokens(
  db: Db,
  userId: string,
  purpose: AccountTokenPurpose,
): Promise<void> {
  await db
    .deleteFrom('account_tokens')
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

/**
 * Spends a live token: one conditional UPDATE, so of two concurrent uses exactly one wins.
 * Returns its user, or undefined for an unknown, used, expired or other-purpose token.
 */
export async function spendAccountToken(
  db: Db,
  token: string,
  purpose: AccountTokenPurpose,
  now: Date,
): Promise<string | undefined> {
  const spent = await db
    .updateTable('account_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hashOpaqueToken(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  return spent?.user_id;
}

/** Deletes tokens that are used or past their expiry: gone, they are refused the same. */
export async function purgeAccountTokens(db: Db, now: Date): Promise<number> {
  const purged = await db
    .deleteFrom('account_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(purged.numDeletedRows);
}

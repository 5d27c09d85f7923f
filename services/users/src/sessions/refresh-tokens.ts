import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { UsersTables } from '../tables.ts';

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

export async function createFamily(db: Db, userId: string): Promise<string> {
  const id = randomUUID();
  await db.insertInto('token_families').values({ id, user_id: userId }).execute();
  return id;
}

export async function insertRefreshToken(
  db: Db,
  token: { hash: string; familyId: string; ttlSeconds: number },
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      token_hash: token.hash,
      family_id: token.familyId,
      expires_at: sql<Date>`now() + make_interval(secs => ${token.ttlSeconds})`,
      spent_at: null,
    })
    .execute();
}

/**
 * Spends a live token: one conditional UPDATE, so of two concurrent refreshes exactly
 * one sees the token unspent. Returns its family and user, or undefined when it was not live.
 */
export async function spendRefreshToken(
  db: Db,
  hash: string,
): Promise<{ familyId: string; userId: string } | undefined> {
  const spent = await db
    .updateTable('refresh_tokens')
    .set({ spent_at: sql<Date>`now()` })
    .where('token_hash', '=', hash)
    .where('spent_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .where('family_id', 'in', (qb) =>
      qb.selectFrom('token_families').select('id').where('revoked_at', 'is', null),
    )
    .returning('family_id')
    .executeTakeFirst();
  if (!spent) return undefined;
  const family = await db
    .selectFrom('token_families')
    .select('user_id')
    .where('id', '=', spent.family_id)
    .executeTakeFirstOrThrow();
  return { familyId: spent.family_id, userId: family.user_id };
}

export async function findRefreshToken(
  db: Db,
  hash: string,
): Promise<{ familyId: string; userId: string; spent: boolean } | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .innerJoin('token_families', 'token_families.id', 'refresh_tokens.family_id')
    .select(['refresh_tokens.family_id', 'refresh_tokens.spent_at', 'token_families.user_id'])
    .where('refresh_tokens.token_hash', '=', hash)
    .executeTakeFirst();
  return row && { familyId: row.family_id, userId: row.user_id, spent: row.spent_at !== null };
}

/** Revokes a live family; false when it was already revoked (or never existed). */
export async function revokeFamily(
  db: Db,
  familyId: string,
  reason: 'logout' | 'reuse',
): Promise<boolean> {
  const revoked = await db
    .updateTable('token_families')
    .set({ revoked_at: sql<Date>`now()`, revoke_reason: reason })
    .where('id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return revoked.numUpdatedRows > 0n;
}

/** Deletes tokens past their expiry and families with nothing live left in them. */
export async function purgeRefreshTokens(db: Db): Promise<{ tokens: number; families: number }> {
  const tokens = await db
    .deleteFrom('refresh_tokens')
    .where((eb) =>
      eb.or([
        eb('expires_at', '<', sql<Date>`now()`),
        eb(
          'family_id',
          'in',
          eb.selectFrom('token_families').select('id').where('revoked_at', 'is not', null),
        ),
      ]),
    )
    .executeTakeFirst();
  const families = await db
    .deleteFrom('token_families')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('refresh_tokens')
            .select('token_hash')
            .whereRef('refresh_tokens.family_id', '=', 'token_families.id'),
        ),
      ),
    )
    .executeTakeFirst();
  return { tokens: Number(tokens.numDeletedRows), families: Number(families.numDeletedRows) };
}

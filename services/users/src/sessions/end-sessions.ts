import { buildEvent } from '@shop/platform';
import { enqueueEvent } from '@shop/platform/db';
import { sql, type Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import type { RevokeReason, UsersTables } from '../tables.ts';

/**
 * Ends every live login of the user: each family is revoked with `reason` (so its refresh
 * tokens stop working) and gets a `user.signed_out` in the same transaction (so the
 * gateway refuses its access tokens too). Returns the ended families. The one way a
 * password change, a reset, a disabled account and a deletion end sessions.
 */
export async function endSessions(
  trx: Transaction<UsersTables>,
  userId: string,
  reason: RevokeReason,
): Promise<string[]> {
  const ended = await trx
    .updateTable('token_families')
    .set({ revoked_at: sql<Date>`now()`, revoke_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  for (const { id } of ended) {
    const data = { userId, sessionId: id };
    await enqueueEvent(trx, buildEvent('user.signed_out', data, { source: serviceName }));
  }
  return ended.map(({ id }) => id);
}

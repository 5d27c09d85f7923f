import { buildEvent } from '@shop/platform';
import { enqueueEvent } from '@shop/platform/db';
import { serviceName } from '../config.ts';
import { endSessions } from '../sessions/end-sessions.ts';
import {
  discardUnusedTokens,
  issueTokenForActiveAccount,
  spendAccountToken,
} from './account-tokens.ts';
import { clockOf, invalidLink } from './email-verification.ts';
import { hashPassword } from './password.ts';
import { findUserForUpdate, updateUser } from './repository.ts';
import type { AccountsDeps } from './service.ts';

// Stands in for the user id when the email has no account, so the same statements run.
const nobody = '00000000-0000-0000-0000-000000000000';

/**
 * For an active account, stores a new reset token (superseding unused ones) and asks
 * notifications to mail it. Whether or not the account exists, the same statements run
 * (look up and lock, discard unused tokens, insert-from-select) and the caller gets the
 * same answer, so neither the answer nor its timing tells whether an address is
 * registered; only an existing account adds the outbox row.
 */
export async function requestPasswordReset(deps: AccountsDeps, email: string): Promise<void> {
  const now = clockOf(deps)();
  const userId = await deps.db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('users')
      .select(['id', 'name', 'status'])
      .where('email', '=', email)
      .forUpdate()
      .executeTakeFirst();
    const user = found?.status === 'active' ? found : undefined;
    await discardUnusedTokens(trx, user?.id ?? nobody, 'password_reset');
    const issued = await issueTokenForActiveAccount(trx, email, 'password_reset', now);
    if (!user || !issued) return undefined;
    const data = {
      userId: user.id,
      email,
      name: user.name,
      token: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
    };
    await enqueueEvent(
      trx,
      buildEvent('user.password_reset_requested', data, { source: serviceName }),
    );
    return user.id;
  });
  deps.outbox.wake();
  // Logged without the address: the log must not become a list of who asked.
  deps.logger.info('password reset requested', { userId, accountFound: userId !== undefined });
}

/**
 * Spends the token, sets the new password and ends every session of the account, so
 * whoever knew the old password is out. A disabled account's token is refused like an
 * unknown one.
 */
export async function confirmPasswordReset(
  deps: AccountsDeps,
  input: { token: string; newPassword: string },
): Promise<void> {
  // Hashed first: a valid and an invalid token cost the same.
  const passwordHash = await hashPassword(input.newPassword);
  const now = clockOf(deps)();
  const result = await deps.db.transaction().execute(async (trx) => {
    const userId = await spendAccountToken(trx, input.token, 'password_reset', now);
    const user = userId === undefined ? undefined : await findUserForUpdate(trx, userId);
    if (user?.status !== 'active') throw invalidLink();
    await updateUser(trx, user.id, { passwordHash });
    await discardUnusedTokens(trx, user.id, 'password_reset');
    const sessions = await endSessions(trx, user.id, 'password_reset');
    return { userId: user.id, sessions: sessions.length };
  });
  deps.outbox.wake();
  deps.logger.info('password reset', result);
}

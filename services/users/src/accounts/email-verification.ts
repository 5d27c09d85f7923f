import { AppError, buildEvent } from '@shop/platform';
import { enqueueEvent } from '@shop/platform/db';
import type { Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import type { UsersTables } from '../tables.ts';
import { issueAccountToken, spendAccountToken } from './account-tokens.ts';
import { findUserForUpdate, markEmailVerified, type User } from './repository.ts';
import type { AccountsDeps } from './service.ts';

/**
 * Issues a verification token (forgetting earlier unused ones) and asks notifications,
 * through the outbox, to mail its link: in the caller's transaction, so a rolled-back
 * registration mails nothing.
 */
export async function requestEmailVerification(
  trx: Transaction<UsersTables>,
  user: Pick<User, 'id' | 'email' | 'name'>,
  now: Date,
): Promise<void> {
  const { token, expiresAt } = await issueAccountToken(trx, user.id, 'email_verification', now);
  const data = {
    userId: user.id,
    email: user.email,
    name: user.name,
    token,
    expiresAt: expiresAt.toISOString(),
  };
  await enqueueEvent(
    trx,
    buildEvent('user.email_verification_requested', data, { source: serviceName }),
  );
}

/** Mails a new link to the caller; 409 once the address is verified. */
export async function resendEmailVerification(deps: AccountsDeps, userId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const user = await findUserForUpdate(trx, userId);
    if (!user) throw new AppError('not_found', 'this account no longer exists');
    if (user.emailVerifiedAt)
      throw new AppError('conflict', 'the email address is already verified');
    await requestEmailVerification(trx, user, clockOf(deps)());
  });
  deps.outbox.wake();
  deps.logger.info('email verification requested', { userId });
}

/** Spends the mailed token and marks its account's address verified. */
export async function verifyEmail(deps: AccountsDeps, token: string): Promise<void> {
  const now = clockOf(deps)();
  const userId = await deps.db.transaction().execute(async (trx) => {
    const owner = await spendAccountToken(trx, token, 'email_verification', now);
    if (!owner) throw invalidLink();
    await markEmailVerified(trx, owner, now);
    return owner;
  });
  deps.logger.info('email verified', { userId });
}

/** One answer for a token that is unknown, used, expired or meant for something else. */
export const invalidLink = () =>
  new AppError('bad_request', 'this link is not valid: it is unknown, used or expired');

export const clockOf = (deps: Pick<AccountsDeps, 'clock'>) => deps.clock ?? (() => new Date());

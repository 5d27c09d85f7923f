import { randomUUID } from 'node:crypto';
import { AppError, buildEvent, type Logger } from '@shop/platform';
import type { Role } from '@shop/platform/auth';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { serviceName } from '../config.ts';
import { endSessions } from '../sessions/end-sessions.ts';
import { createFamily } from '../sessions/refresh-tokens.ts';
import type { TokenPair } from '../sessions/schemas.ts';
import { issuePair, type SessionsDeps } from '../sessions/service.ts';
import type { UsersTables } from '../tables.ts';
import { discardUnusedTokens } from './account-tokens.ts';
import { clockOf, requestEmailVerification } from './email-verification.ts';
import { hashPassword, verifyPassword } from './password.ts';
import {
  deleteUser,
  findUserByEmail,
  findUserById,
  findUserForUpdate,
  insertUser,
  setRole,
  type User,
  updateUser,
} from './repository.ts';
import type { PublicUser } from './schemas.ts';

export type AccountsDeps = {
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
  /** When mailed tokens are issued and spent; the wall clock unless a test moves it. */
  clock?: () => Date;
};

/** What ending the caller's sessions and starting a fresh one takes. */
export type CredentialsDeps = AccountsDeps &
  Pick<SessionsDeps, 'tokens' | 'refreshTokenTtlSeconds'>;

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    status: user.status,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

const accountGone = () => new AppError('not_found', 'this account no longer exists');
const wrongPassword = () => new AppError('forbidden', 'the password is wrong');

/**
 * Creates the account, its `user.registered` event and its verification request (token and
 * `user.email_verification_requested`) in one transaction.
 */
export async function registerUser(
  deps: AccountsDeps,
  input: { email: string; password: string; name: string },
  role: Role = 'customer',
): Promise<PublicUser> {
  const user: User = {
    id: randomUUID(),
    email: input.email,
    name: input.name,
    role,
    passwordHash: await hashPassword(input.password),
    createdAt: clockOf(deps)(),
    status: 'active',
    emailVerifiedAt: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    if ((await insertUser(trx, user)) === 'email_taken') {
      throw new AppError('conflict', 'that email is already registered');
    }
    const data = {
      userId: user.id,
      email: user.email,
      name: user.name,
      registeredAt: user.createdAt.toISOString(),
    };
    await enqueueEvent(trx, buildEvent('user.registered', data, { source: serviceName }));
    await requestEmailVerification(trx, user, user.createdAt);
  });
  deps.outbox.wake();
  deps.logger.info('user registered', { userId: user.id, role });
  return toPublicUser(user);
}

export async function getUser(deps: Pick<AccountsDeps, 'db'>, id: string): Promise<PublicUser> {
  const user = await findUserById(deps.db, id);
  // A valid token for a deleted account: the account is gone, say so.
  if (!user) throw accountGone();
  return toPublicUser(user);
}

/**
 * Makes sure the configured admin exists and is an admin; safe at every start of every
 * replica. An existing account is promoted only if ADMIN_PASSWORD is its password: anyone
 * can register any email, so owning the address proves nothing. The variable only seeds
 * the password; it never changes an existing one.
 */
export async function ensureAdmin(
  deps: AccountsDeps,
  credentials: { email: string; password: string },
): Promise<'created' | 'promoted' | 'present' | 'refused'> {
  const email = credentials.email.trim().toLowerCase();
  const existing = await findUserByEmail(deps.db, email);
  if (!existing) {
    try {
      await registerUser(
        deps,
        { email, password: credentials.password, name: 'Administrator' },
        'admin',
      );
      return 'created';
    } catch (error) {
      // Another replica, or someone signing up at the same moment, got there first.
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
      return ensureAdmin(deps, credentials);
    }
  }
  if (existing.role === 'admin') return 'present';
  if (!(await verifyPassword(credentials.password, existing.passwordHash))) {
    deps.logger.error(
      'ADMIN_EMAIL belongs to a customer account with another password; not promoted',
      {
        userId: existing.id,
      },
    );
    return 'refused';
  }
  await setRole(deps.db, existing.id, 'admin');
  deps.logger.info('admin role granted', { userId: existing.id });
  return 'promoted';
}

export async function updateProfile(
  deps: Pick<AccountsDeps, 'db'>,
  id: string,
  changes: { name: string },
): Promise<PublicUser> {
  const user = await updateUser(deps.db, id, changes);
  if (!user) throw accountGone();
  return toPublicUser(user);
}

/**
 * Sets a new password once the current one checks out, ends every session of the account
 * (a thief holding one is out) and returns a fresh pair for the caller in a new family.
 * The row stays locked from the check to the change, so two changes cannot interleave.
 */
export async function changePassword(
  deps: CredentialsDeps,
  id: string,
  input: { currentPassword: string; newPassword: string },
): Promise<TokenPair> {
  const passwordHash = await hashPassword(input.newPassword);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const user = await findUserForUpdate(trx, id);
    if (!user) throw accountGone();
    if (!(await verifyPassword(input.currentPassword, user.passwordHash))) throw wrongPassword();
    await updateUser(trx, id, { passwordHash });
    // A reset link mailed for the old password must not undo the new one.
    await discardUnusedTokens(trx, id, 'password_reset');
    const ended = await endSessions(trx, id, 'password_changed');
    const familyId = await createFamily(trx, id);
    return { pair: await issuePair(deps, user, familyId, trx), ended: ended.length, familyId };
  });
  deps.outbox.wake();
  deps.logger.info('password changed', {
    userId: id,
    ended: outcome.ended,
    familyId: outcome.familyId,
  });
  return outcome.pair;
}

/**
 * Deletes the account once its password checks out: every session ends (`user.signed_out`
 * each), every row of it goes, and `user.deleted` tells the other services to erase theirs.
 */
export async function deleteAccount(
  deps: AccountsDeps,
  id: string,
  password: string,
): Promise<void> {
  const ended = await deps.db.transaction().execute(async (trx) => {
    const user = await findUserForUpdate(trx, id);
    if (!user) throw accountGone();
    if (!(await verifyPassword(password, user.passwordHash))) throw wrongPassword();
    const sessions = await endSessions(trx, id, 'deleted');
    await deleteUser(trx, user);
    const data = { userId: id, deletedAt: clockOf(deps)().toISOString() };
    await enqueueEvent(trx, buildEvent('user.deleted', data, { source: serviceName }));
    return sessions.length;
  });
  deps.outbox.wake();
  deps.logger.info('account deleted', { userId: id, ended });
}

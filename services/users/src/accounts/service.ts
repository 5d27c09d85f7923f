import { randomUUID } from 'node:crypto';
import { AppError, buildEvent, type Logger } from '@shop/platform';
import type { Role } from '@shop/platform/auth';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { serviceName } from '../config.ts';
import type { UsersTables } from '../tables.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { findUserByEmail, findUserById, insertUser, setRole, type User } from './repository.ts';
import type { PublicUser } from './schemas.ts';

export type AccountsDeps = {
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
};

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}

/** Creates the account and its `user.registered` event in one transaction. */
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
    createdAt: new Date(),
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
  });
  deps.outbox.wake();
  deps.logger.info('user registered', { userId: user.id, role });
  return toPublicUser(user);
}

export async function getUser(deps: Pick<AccountsDeps, 'db'>, id: string): Promise<PublicUser> {
  const user = await findUserById(deps.db, id);
  // A valid token for a deleted account: the account is gone, say so.
  if (!user) throw new AppError('not_found', 'this account no longer exists');
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

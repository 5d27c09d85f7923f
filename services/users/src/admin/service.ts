import { AppError, decodeCursor, encodeCursor, keysetPage } from '@shop/platform';
import {
  findUserById,
  findUserForUpdate,
  listUsers,
  lockActiveAdmins,
  type User,
  updateUser,
} from '../accounts/repository.ts';
import type { PublicUser } from '../accounts/schemas.ts';
import { type AccountsDeps, toPublicUser } from '../accounts/service.ts';
import { endSessions } from '../sessions/end-sessions.ts';
import type { RevokeReason } from '../tables.ts';
import { type AdminUserChanges, type UserListQuery, userPosition } from './schemas.ts';

const userNotFound = () => new AppError('not_found', 'no user has this id');

export async function pageOfUsers(
  deps: Pick<AccountsDeps, 'db'>,
  query: UserListQuery,
): Promise<{ items: PublicUser[]; nextCursor: string | null }> {
  const after = query.cursor ? decodeCursor(query.cursor, userPosition) : undefined;
  const { rows, nextCursor } = await keysetPage(
    query.limit,
    (limit): Promise<User[]> =>
      listUsers(deps.db, {
        q: query.q,
        role: query.role,
        status: query.status,
        limit,
        after: after && { createdAt: new Date(after.createdAt), id: after.id },
      }),
    (last) => encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }),
  );
  return { items: rows.map(toPublicUser), nextCursor };
}

export async function getUserForAdmin(
  deps: Pick<AccountsDeps, 'db'>,
  id: string,
): Promise<PublicUser> {
  const user = await findUserById(deps.db, id);
  if (!user) throw userNotFound();
  return toPublicUser(user);
}

/**
 * Why the change ends the user's sessions, if it does: a disabled account must be out at
 * once, and a demoted admin must not keep using tokens that still say admin.
 */
function sessionsEndedBy(before: User, changes: AdminUserChanges): RevokeReason | undefined {
  if (changes.status === 'disabled' && before.status !== 'disabled') return 'disabled';
  if (changes.role === 'customer' && before.role === 'admin') return 'role_changed';
  return undefined;
}

/**
 * Changes a user's role or status. The active admins are locked first (always in one
 * order, so concurrent changes queue rather than deadlock), so of two concurrent demotions
 * of the last two admins the second sees the first and is refused.
 */
export async function changeUser(
  deps: AccountsDeps,
  id: string,
  changes: AdminUserChanges,
  actorId: string,
): Promise<PublicUser> {
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const activeAdmins = await lockActiveAdmins(trx);
    const before = await findUserForUpdate(trx, id);
    if (!before) throw userNotFound();
    const losesAdmin =
      activeAdmins.includes(id) && (changes.role === 'customer' || changes.status === 'disabled');
    if (losesAdmin && activeAdmins.length === 1) {
      throw new AppError('conflict', 'the last active admin cannot be demoted or disabled');
    }
    const after = (await updateUser(trx, id, changes)) ?? before;
    const reason = sessionsEndedBy(before, changes);
    const ended = reason ? await endSessions(trx, id, reason) : [];
    return { after, reason, ended: ended.length };
  });
  if (outcome.ended > 0) deps.outbox.wake();
  deps.logger.info('user changed by an admin', {
    userId: id,
    actorId,
    ...changes,
    sessionsEnded: outcome.ended,
  });
  return toPublicUser(outcome.after);
}

import type { Role } from '@shop/platform/auth';
import { type NewestFirstCursor, newestFirst } from '@shop/platform/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { AccountStatus, UsersTable, UsersTables } from '../tables.ts';

export type User = {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
  status: AccountStatus;
  emailVerifiedAt: Date | null;
};

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    status: row.status,
    emailVerifiedAt: row.email_verified_at,
  };
}

/** Inserts unless the email is taken; the unique index decides, so two racing sign-ups cannot both win. */
export async function insertUser(db: Db, user: User): Promise<'inserted' | 'email_taken'> {
  const inserted = await db
    .insertInto('users')
    .values({
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      password_hash: user.passwordHash,
      created_at: user.createdAt,
      status: user.status,
      email_verified_at: user.emailVerifiedAt,
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ? 'inserted' : 'email_taken';
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function setRole(db: Db, id: string, role: Role): Promise<void> {
  await db.updateTable('users').set({ role }).where('id', '=', id).execute();
}

/** The row locked until the transaction ends, so concurrent changes to it queue. */
export async function findUserForUpdate(db: Transaction<UsersTables>, id: string) {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && toUser(row);
}

/**
 * Locks every active admin and returns their ids. Whoever changes an admin takes these
 * locks first, so two concurrent demotions see each other's outcome and cannot both leave
 * the shop without one.
 */
export async function lockActiveAdmins(db: Transaction<UsersTables>): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('status', '=', 'active')
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((row) => row.id);
}

export async function updateUser(
  db: Db,
  id: string,
  changes: { name?: string; role?: Role; status?: AccountStatus; passwordHash?: string },
): Promise<User | undefined> {
  const { name, role, status, passwordHash } = changes;
  const row = await db
    .updateTable('users')
    .set({
      ...(name === undefined ? {} : { name }),
      ...(role === undefined ? {} : { role }),
      ...(status === undefined ? {} : { status }),
      ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
}

/** Marks the address verified, keeping the first time it was. */
export async function markEmailVerified(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ email_verified_at: at })
    .where('id', '=', id)
    .where('email_verified_at', 'is', null)
    .execute();
}

/**
 * Deletes the account; its families, refresh tokens, device tokens and account tokens go
 * with it (ON DELETE CASCADE). Its throttle rows are keyed by email, not id, so they are
 * deleted here.
 */
export async function deleteUser(db: Db, user: Pick<User, 'id' | 'email'>): Promise<void> {
  await db
    .deleteFrom('login_throttle')
    .where((eb) =>
      eb.or([
        eb('key', '=', `account:${user.email}`),
        eb(sql<boolean>`starts_with(key, ${`pair:${user.email}|`})`, '=', true),
      ]),
    )
    .execute();
  await db.deleteFrom('users').where('id', '=', user.id).execute();
}

export type UserFilter = {
  /** A case-insensitive substring of the email or the name. */
  q?: string | undefined;
  role?: Role | undefined;
  status?: AccountStatus | undefined;
  limit: number;
  after?: NewestFirstCursor | undefined;
};

// LIKE's wildcards in a search term are meant literally.
const likeLiteral = (text: string) => text.replaceAll(/[\\%_]/g, (c) => `\\${c}`);

/** Newest first, keyset-paged by (created_at, id). */
export async function listUsers(db: Db, filter: UserFilter): Promise<User[]> {
  let query = db.selectFrom('users').selectAll();
  if (filter.q) {
    const pattern = `%${likeLiteral(filter.q)}%`;
    query = query.where((eb) =>
      eb.or([eb('email', 'ilike', pattern), eb('name', 'ilike', pattern)]),
    );
  }
  if (filter.role) query = query.where('role', '=', filter.role);
  if (filter.status) query = query.where('status', '=', filter.status);
  const rows = await newestFirst(query, filter).execute();
  return rows.map(toUser);
}

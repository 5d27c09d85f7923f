import { type Kysely, sql } from 'kysely';

/**
 * Issue 20: accounts can be disabled and their email verified, and single-use tokens (only
 * their SHA-256 stored) reset a password or verify an address. Families may now be ended
 * by a password change or reset, a disabled account or a lost admin role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('active').check(sql`status in ('active', 'disabled')`),
    )
    .addColumn('email_verified_at', 'timestamptz')
    .execute();
  // The admin listing pages newest first.
  await db.schema.createIndex('users_created').on('users').columns(['created_at', 'id']).execute();
  await db.schema
    .createTable('account_tokens')
    .addColumn('token_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (col) =>
      col.notNull().check(sql`purpose in ('password_reset', 'email_verification')`),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('account_tokens_user_purpose')
    .on('account_tokens')
    .columns(['user_id', 'purpose'])
    .execute();
  await db.schema
    .createIndex('account_tokens_expires')
    .on('account_tokens')
    .column('expires_at')
    .execute();
  await db.schema
    .createIndex('token_families_user')
    .on('token_families')
    .column('user_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('token_families_user').execute();
  await db.schema.dropTable('account_tokens').execute();
  await db.schema.dropIndex('users_created').execute();
  await db.schema
    .alterTable('users')
    .dropColumn('email_verified_at')
    .dropColumn('status')
    .execute();
}

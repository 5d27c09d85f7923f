import { type Kysely, sql } from 'kysely';

/**
 * Device tokens (OWASP's device cookies): a login that presents one is not stopped by the
 * account-wide cap. And the window for which an account's lockout was last reported, so the
 * owner is told once per window.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_tokens')
    .addColumn('token_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoke_reason', 'text', (col) =>
      col.check(sql`revoke_reason in ('logout', 'failures', 'user')`),
    )
    .execute();
  await db.schema.createIndex('device_tokens_user').on('device_tokens').column('user_id').execute();
  await db.schema
    .alterTable('login_throttle')
    .addColumn('lock_reported_for', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('login_throttle').dropColumn('lock_reported_for').execute();
  await db.schema.dropTable('device_tokens').execute();
}

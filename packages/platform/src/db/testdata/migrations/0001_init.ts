import type { Kysely } from 'kysely';
import { createPlatformTables, dropPlatformTables } from '../../platform-tables.ts';

// The shape of a service's first migration: the platform's tables, then its own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await createPlatformTables(db);
  await db.schema
    .createTable('widgets')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('widgets').execute();
  await dropPlatformTables(db);
}

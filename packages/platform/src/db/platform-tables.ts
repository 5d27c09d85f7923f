import { type ColumnType, type Generated, type Kysely, sql } from 'kysely';
import type { ShopEvent } from '../events/cloud-event.ts';

/** One event waiting to be (or already) published; `position` orders the relay. */
export type OutboxTable = {
  position: ColumnType<number, never, never>;
  event_id: string;
  type: string;
  // Written as JSON text so pg and PGlite bind it the same way; read back parsed.
  event: ColumnType<ShopEvent, string, never>;
  created_at: Generated<Date>;
  attempts: Generated<number>;
  last_error: string | null;
  claimed_until: Date | null;
  sent_at: Date | null;
};

/** One CloudEvent a consumer has applied; the key is what makes redelivery harmless. */
export type InboxTable = {
  consumer: string;
  event_id: string;
  processed_at: Generated<Date>;
};

/** The tables the platform keeps in every service database; add them to the service's own. */
export type PlatformTables = {
  outbox: OutboxTable;
  inbox: InboxTable;
};

/**
 * The platform's two tables seen through a service's handle. Kysely's database type is
 * invariant, so a `Kysely<ServiceTables & PlatformTables>` is not a
 * `Kysely<PlatformTables>`, although every query built here only touches those two.
 */
export function platformView<DB extends PlatformTables>(db: Kysely<DB>): Kysely<PlatformTables> {
  return db as unknown as Kysely<PlatformTables>;
}

/**
 * Creates the outbox and inbox tables; call it from the service's first migration.
 *
 * @example
 * // services/orders/migrations/0001_init.ts
 * export async function up(db: Kysely<unknown>) {
 *   await createPlatformTables(db);
 *   await db.schema.createTable('orders')...execute();
 * }
 */
export async function createPlatformTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox')
    .addColumn('position', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('event_id', 'text', (col) => col.notNull().unique())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('event', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .execute();
  // The relay only ever scans unsent rows, and the purge only sent ones.
  await db.schema
    .createIndex('outbox_unsent')
    .on('outbox')
    .column('position')
    .where(sql.ref('sent_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('outbox_sent')
    .on('outbox')
    .column('sent_at')
    .where(sql.ref('sent_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('inbox')
    .addColumn('consumer', 'text', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('processed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('inbox_pkey', ['consumer', 'event_id'])
    .execute();
}

/**
 * Drops what {@link createPlatformTables} created; call it from the same migration's `down`.
 *
 * @example
 * export async function down(db: Kysely<unknown>) {
 *   await db.schema.dropTable('orders').execute();
 *   await dropPlatformTables(db);
 * }
 */
export async function dropPlatformTables(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('inbox').execute();
  await db.schema.dropTable('outbox').execute();
}

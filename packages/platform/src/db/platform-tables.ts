import { type ColumnType, type Generated, type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
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
export type ProcessedEventsTable = {
  consumer: string;
  event_id: string;
  processed_at: Generated<Date>;
};

/** An event this service's subscriptions gave up on, kept for inspection and replay. */
export type DeadLettersTable = {
  id: string;
  type: string;
  received_at: Date;
  // JSON text in, parsed out, as for the outbox.
  event: ColumnType<unknown, string, string>;
};

/** The tables the platform keeps in every service database; add them to the service's own. */
export type PlatformTables = {
  outbox: OutboxTable;
  processed_events: ProcessedEventsTable;
  dead_letters: DeadLettersTable;
};

/**
 * The platform's tables seen through a service's handle. Kysely's database type is
 * invariant, so a `Kysely<ServiceTables & PlatformTables>` is not a
 * `Kysely<PlatformTables>`, although every query built here only touches those.
 */
export function platformView<DB extends PlatformTables>(db: Kysely<DB>): Kysely<PlatformTables> {
  return db as unknown as Kysely<PlatformTables>;
}

/**
 * The platform's own schema, versioned apart from each service's (its own migration
 * table), so a platform change ships to every service without touching their folders.
 */
export const platformMigrations: Record<string, Migration> = {
  '0001_outbox_processed_events_dead_letters': {
    async up(db: Kysely<unknown>) {
      // Databases made before the platform kept its own migrations already have the
      // outbox, and the processed-event receipts under their old name.
      const legacyInbox = await sql<{
        found: string | null;
      }>`select to_regclass('inbox')::text as found`.execute(db);
      if (legacyInbox.rows[0]?.found) {
        await sql`alter table inbox rename to processed_events`.execute(db);
        await sql`alter table processed_events rename constraint inbox_pkey to processed_events_pkey`.execute(
          db,
        );
      }
      await db.schema
        .createTable('outbox')
        .ifNotExists()
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
        .ifNotExists()
        .on('outbox')
        .column('position')
        .where(sql.ref('sent_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('outbox_sent')
        .ifNotExists()
        .on('outbox')
        .column('sent_at')
        .where(sql.ref('sent_at'), 'is not', null)
        .execute();
      await db.schema
        .createTable('processed_events')
        .ifNotExists()
        .addColumn('consumer', 'text', (col) => col.notNull())
        .addColumn('event_id', 'text', (col) => col.notNull())
        .addColumn('processed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('processed_events_pkey', ['consumer', 'event_id'])
        .execute();
      await db.schema
        .createTable('dead_letters')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('received_at', 'timestamptz', (col) => col.notNull())
        .addColumn('event', 'jsonb', (col) => col.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('dead_letters').execute();
      await db.schema.dropTable('processed_events').execute();
      await db.schema.dropTable('outbox').execute();
    },
  },
};

import { fileURLToPath } from 'node:url';
import { startPostgres } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildEvent, type ShopEvent } from '../../events/cloud-event.ts';
import { createLogger, type Logger } from '../../logger.ts';
import { createDatabase, type Database } from '../database.ts';
import { migrateToLatest } from '../migrations.ts';
import type { PlatformTables } from '../platform-tables.ts';

export type TestTables = PlatformTables & { widgets: { id: string; name: string } };

/** Every data-layer case runs on both: the embedded default and the production database. */
export const backends = ['pglite', 'postgres'] as const;
export type Backend = (typeof backends)[number];

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
export const brokenMigrationsFolder = fileURLToPath(
  new URL('./broken-migrations', import.meta.url),
);

/** A logger that keeps its lines for assertions instead of printing them. */
export function recordingLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    write: (line) => void lines.push(JSON.parse(line)),
  });
  return Object.assign(logger, { lines });
}

/**
 * Gives the enclosing describe a database on `backend`: a private PostgreSQL or an
 * in-memory PGlite, migrated once, emptied before each test.
 */
export function useDatabase(backend: Backend): () => Database<TestTables> {
  let opened: OpenedDatabase | undefined;
  beforeAll(async () => {
    const logger = recordingLogger();
    opened = await openDatabase(backend, logger);
    await migrateToLatest(opened.database.db, migrationsFolder, logger);
  });
  beforeEach(async () => {
    if (opened) await sql`truncate outbox, inbox, widgets`.execute(opened.database.db);
  });
  afterAll(() => opened?.close());
  return () => {
    if (!opened) throw new Error('the database is not open yet');
    return opened.database;
  };
}

export type OpenedDatabase = { database: Database<TestTables>; close(): Promise<void> };

/** A fresh, empty database on `backend`; `close` also stops the server it started. */
export async function openDatabase(backend: Backend, logger: Logger): Promise<OpenedDatabase> {
  if (backend === 'pglite') {
    const database = createDatabase<TestTables>({ logger });
    return { database, close: () => database.close() };
  }
  const server = await startPostgres();
  const database = createDatabase<TestTables>({ url: await server.createDatabase('test'), logger });
  return {
    database,
    async close() {
      await database.close();
      await server.stop();
    },
  };
}

let counter = 0;

/** A valid event with a recognisable id. */
export function testEvent(label = `e${++counter}`): ShopEvent {
  return buildEvent(
    'user.registered',
    {
      userId: label,
      email: `${label}@example.com`,
      name: label,
      registeredAt: new Date().toISOString(),
    },
    { source: 'test', id: `${label}-${crypto.randomUUID()}` },
  );
}

import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '@shop/platform';
import {
  createDatabase,
  type Database,
  type DatabaseOptions,
  migrateToLatest,
} from '@shop/platform/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startPostgres } from './postgres.ts';

/** Every data-layer case runs on both: the embedded option and the production database. */
export const databaseBackends = ['pglite', 'postgres'] as const;
export type DatabaseBackend = (typeof databaseBackends)[number];

export type TestDatabase<DB> = { database: Database<DB>; close(): Promise<void> };

/**
 * A fresh database on `backend` (an in-memory PGlite, or a private PostgreSQL started for
 * it) with the platform's tables and, when given, the service's migrations applied.
 * `close` also stops the server it started.
 *
 * @example
 * const { database, close } = await openTestDatabase<OrdersTables>('postgres', { migrations: new URL('../migrations', import.meta.url) });
 */
export async function openTestDatabase<DB>(
  backend: DatabaseBackend,
  /** `migrations: false` leaves the database empty, not even the platform's tables. */
  options: {
    migrations?: URL | string | false;
    logger?: Logger;
    pgliteExtensions?: DatabaseOptions['pgliteExtensions'];
  } = {},
): Promise<TestDatabase<DB>> {
  const logger = options.logger ?? silentLogger();
  const server = backend === 'postgres' ? await startPostgres() : undefined;
  const database = createDatabase<DB>({
    url: server ? await server.createDatabase('test') : undefined,
    pgliteExtensions: options.pgliteExtensions,
    logger,
  });
  const close = async () => {
    await database.close();
    await server?.stop();
  };
  const { migrations } = options;
  if (migrations === false) return { database, close };
  try {
    const folder = migrations instanceof URL ? fileURLToPath(migrations) : migrations;
    await migrateToLatest(database.db, folder, logger);
  } catch (error) {
    await close();
    throw error;
  }
  return { database, close };
}

/**
 * Gives the enclosing describe a migrated database on `backend`, opened once; with
 * `emptyBeforeEach` every table but the migration bookkeeping is truncated before each test.
 *
 * @example
 * describe.each(databaseBackends)('orders on %s', (backend) => {
 *   const database = useTestDatabase<OrdersTables>(backend, { migrations, emptyBeforeEach: true });
 *   it('...', async () => { await database().db.selectFrom('orders')... });
 * });
 */
export function useTestDatabase<DB>(
  backend: DatabaseBackend,
  options: {
    migrations?: URL | string;
    logger?: Logger;
    emptyBeforeEach?: boolean;
    pgliteExtensions?: DatabaseOptions['pgliteExtensions'];
  } = {},
): () => Database<DB> {
  let opened: TestDatabase<DB> | undefined;
  beforeAll(async () => {
    opened = await openTestDatabase<DB>(backend, options);
  }, 60_000);
  if (options.emptyBeforeEach) {
    beforeEach(async () => {
      if (opened) await emptyTables(opened.database);
    });
  }
  afterAll(() => opened?.close());
  return () => {
    if (!opened) throw new Error('the test database is not open yet');
    return opened.database;
  };
}

async function emptyTables<DB>(database: Database<DB>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_tables
    where schemaname = 'public' and tablename not like '%migration%'`.execute(database.db);
  if (rows.length === 0) return;
  await sql`truncate ${sql.join(rows.map((row) => sql.table(row.name)))}`.execute(database.db);
}

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

export function silentLogger(service = 'test'): Logger {
  return createLogger({ service, write: () => {} });
}

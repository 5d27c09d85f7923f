import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import { FileMigrationProvider, type MigrationProvider, Migrator } from 'kysely/migration';
import type { Logger } from '../logger.ts';
import { platformMigrations } from './platform-tables.ts';

/**
 * Brings the platform's tables (outbox, processed events, dead letters: versioned in a
 * migration table of their own) and then the service's own up to date. Applies every
 * migration in `migrationsFolder` (files named `0001_init.ts`, ... each exporting
 * `up(db)` and `down(db)`) that has not run yet, in name order, under Kysely's migration
 * lock so replicas starting together apply each one once. Throws naming the migration
 * that failed; on PostgreSQL each run is one transaction.
 *
 * @example
 * const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));
 * await migrateToLatest(database.db, migrationsFolder, logger);
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  /** The service's migrations; without it, only the platform's tables. */
  migrationsFolder: string | undefined,
  logger: Logger,
): Promise<void> {
  await migrate(
    db,
    { getMigrations: async () => platformMigrations },
    { table: 'platform_migration', logger },
  );
  if (migrationsFolder === undefined) return;
  const provider = new FileMigrationProvider({
    fs,
    path,
    migrationFolder: path.resolve(migrationsFolder),
    // A URL, not a bare path, so the import means the same file on every platform.
    import: (file) => import(pathToFileURL(file).href),
  });
  await migrate(db, provider, { logger });
}

async function migrate<DB>(
  db: Kysely<DB>,
  provider: MigrationProvider,
  options: { table?: string; logger: Logger },
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(options.table
      ? { migrationTableName: options.table, migrationLockTableName: `${options.table}_lock` }
      : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  for (const result of results) {
    if (result.status === 'Success')
      options.logger.info('migration applied', { migration: result.migrationName });
  }
  const failed = results.find((result) => result.status === 'Error');
  if (failed) {
    throw new Error(`migration ${failed.migrationName} failed: ${describe(error)}`, {
      cause: error,
    });
  }
  if (error) throw new Error(`migrations failed: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

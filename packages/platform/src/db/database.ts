import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Extensions, PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { migrateToLatest } from './migrations.ts';
import { querySpans } from './query-spans.ts';

/** A service's handle on its database. */
export type Database<DB> = {
  db: Kysely<DB>;
  /** Resolves when the database answers a query; throws otherwise (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  /** The service's DATABASE_URL; without it the database is an embedded PGlite. */
  url?: string | undefined;
  /** Where the embedded PGlite keeps its files; in memory when absent. */
  pgliteDataDir?: string | undefined;
  /**
   * PostgreSQL extensions the embedded PGlite loads, by name (PGlite ships contrib
   * extensions as modules, e.g. `{ pg_trgm }` from `@electric-sql/pglite/contrib/pg_trgm`);
   * a migration still runs `create extension`, which on PostgreSQL finds the server's own.
   */
  pgliteExtensions?: Extensions | undefined;
  logger: Logger;
};

// pg hands int8 (bigint, count(*)) back as a string, PGlite as a number when it fits.
// Parsing both the same way keeps code tested on PGlite honest on PostgreSQL.
const parseInt8 = (value: string): number | bigint => {
  const big = BigInt(value);
  return big >= Number.MIN_SAFE_INTEGER && big <= Number.MAX_SAFE_INTEGER ? Number(big) : big;
};

const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  } catch {
    return 'postgres';
  }
}

/**
 * Opens the service's database: PostgreSQL through a `pg` pool when a URL is given,
 * otherwise an embedded PGlite. PGlite is one connection, so Kysely hands it to one
 * query or transaction at a time; inside a transaction use the transaction, never `db`
 * (on PGlite a query on `db` would wait for the transaction that waits for it).
 *
 * @example
 * const database = createDatabase<OrdersTables>({ url: config.DATABASE_URL, logger });
 * await migrateToLatest(database.db, migrationsFolder, logger);
 * const order = await database.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
 */
export function createDatabase<DB>(options: DatabaseOptions): Database<DB> {
  const { url, pgliteDataDir, pgliteExtensions, logger } = options;
  let db: Kysely<DB>;
  if (url) {
    const pool = new pg.Pool({
      connectionString: url,
      types: pgTypes,
      // A database that does not answer should fail requests and /readyz, not hang them.
      connectionTimeoutMillis: 5_000,
    });
    // An idle client whose server went away emits here; unhandled, it would end the process.
    pool.on('error', (error) => logger.warn('idle database connection failed', { error }));
    // A checked-out client (inside a transaction, between its statements) emits on itself
    // instead: PostgreSQL killed there crashed the service (seen in a soak with chaos). The
    // statement in flight fails on its own, and the pool drops the broken client on release.
    pool.on('connect', (client) =>
      client.on('error', (error) => logger.warn('database connection failed', { error })),
    );
    db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool }),
      log: querySpans({ system: 'postgresql', name: databaseName(url) }),
    });
    logger.info('database: PostgreSQL');
  } else {
    db = new Kysely<DB>({
      dialect: new PGliteDialect({
        pglite: async () => {
          // PGlite makes its own folder but not the ones above it.
          if (pgliteDataDir) await mkdir(pgliteDataDir, { recursive: true });
          return PGlite.create(pgliteDataDir, { extensions: pgliteExtensions ?? {} });
        },
      }),
      log: querySpans({ system: 'postgresql', name: 'pglite' }),
    });
    logger.info('database: embedded PGlite', { dataDir: pgliteDataDir ?? '(memory)' });
  }
  return {
    db,
    async ping() {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * A service's own database as its main.ts opens it: from its `databaseEnv` settings,
 * brought up to its latest migration unless a deploy step (the chart's hook) does that.
 *
 * @example
 * const database = await openServiceDatabase<OrdersTables>({ config, logger, migrations: new URL('../migrations', import.meta.url) });
 */
export async function openServiceDatabase<DB>(options: {
  config: {
    DATABASE_URL?: string | undefined;
    PGLITE_DATA_DIR?: string | undefined;
    MIGRATE_ON_START: boolean;
  };
  logger: Logger;
  /** The service's migrations folder. */
  migrations: URL;
  /** Extensions its migrations create, for the embedded PGlite; see DatabaseOptions. */
  pgliteExtensions?: Extensions;
}): Promise<Database<DB>> {
  const { config, logger } = options;
  const database = createDatabase<DB>({
    url: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    pgliteExtensions: options.pgliteExtensions,
    logger,
  });
  if (config.MIGRATE_ON_START) {
    try {
      await migrateToLatest(database.db, fileURLToPath(options.migrations), logger);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

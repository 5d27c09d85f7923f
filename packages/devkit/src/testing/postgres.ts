import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres as startPostgresIn } from '../infra/postgres.ts';
import { startScratchServer } from './scratch-server.ts';

export type TestPostgres = {
  /** A connection URL for `database` on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
};

/**
 * A private, throw-away PostgreSQL for one test file: the supervisor's server in a fresh
 * cluster in a temp folder, fsync off. Nothing is assumed running.
 *
 * @example
 * const postgres = await startPostgres();
 * const database = createDatabase({ url: await postgres.createDatabase('orders_test'), logger });
 * await postgres.stop();
 */
export async function startPostgres(): Promise<TestPostgres> {
  const scratch = await startScratchServer(
    {
      prefix: 'shop-pg-',
      processName: 'postgres',
      // /tmp rather than TMPDIR: as root the server runs as another account, which must reach it.
      parentDir: process.getuid?.() === 0 ? '/tmp' : tmpdir(),
    },
    ({ dir, group }) => startPostgresIn(group, { clusterDir: join(dir, 'data'), durable: false }),
  );
  return {
    url: scratch.server.url,
    createDatabase: scratch.server.ensureDatabase,
    stop: scratch.stop,
  };
}

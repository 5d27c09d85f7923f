import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres as startPostgresIn } from '../supervisor/postgres.ts';
import { ProcessGroup } from '../supervisor/processes.ts';

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
  // /tmp rather than TMPDIR: as root the server runs as another account, which must reach it.
  const dir = await mkdtemp(join(process.getuid?.() === 0 ? '/tmp' : tmpdir(), 'shop-pg-'));
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-8_000);
    },
    // A server that dies by itself fails its start here, or the queries of its test.
    onUnexpectedExit: () => {},
  });
  try {
    const server = await startPostgresIn(group, { clusterDir: join(dir, 'data'), durable: false });
    return {
      url: server.url,
      createDatabase: server.ensureDatabase,
      async stop() {
        await group.stop('postgres', { graceMs: 5_000 });
        process.removeListener('exit', removeOnExit);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    process.removeListener('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${output}`);
  }
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { acceptsConnections, resolveFerretDB, startFerretDB } from '../infra/ferretdb.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import { startScratchServer } from './scratch-server.ts';

export type TestMongo = {
  /** A `mongodb://` URL of a database nobody has used yet on this server. */
  freshDatabaseUrl(): string;
  /** Stops the server and starts it again on the same port and files (what survives a crash). */
  restart(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
};

const processName = 'ferretdb';

/**
 * A private, throw-away FerretDB (MongoDB wire protocol over SQLite) for one test file, in
 * a temp folder, on a free loopback port. Nothing is assumed running.
 *
 * @example
 * const mongo = await startTestMongo();
 * const client = new MongoClient(mongo.freshDatabaseUrl());
 * await mongo.stop();
 */
export async function startTestMongo(): Promise<TestMongo> {
  const binary = resolveFerretDB(findRepoRoot());
  const scratch = await startScratchServer(
    { prefix: 'shop-ferretdb-', processName },
    ({ dir, group }) => startFerretDB(group, { binary, dataDir: dir, name: processName }),
  );
  const { server, group } = scratch;
  return {
    freshDatabaseUrl: () => server.url(`test_${randomUUID().replaceAll('-', '')}`),
    async restart() {
      await group.stop(processName, { graceMs: 5_000 });
      group.restart(processName);
      if (!(await acceptsConnections(server.port, () => group.has(processName)))) {
        throw new Error(`ferretdb did not start again\n${scratch.output()}`);
      }
    },
    stop: scratch.stop,
  };
}

/**
 * Gives the enclosing describe a private FerretDB, started once before its tests and
 * stopped after them.
 *
 * @example
 * const mongo = useTestMongo();
 * it('...', async () => { const client = new MongoClient(mongo().freshDatabaseUrl()); ... });
 */
export function useTestMongo(): () => TestMongo {
  let started: TestMongo | undefined;
  beforeAll(async () => {
    started = await startTestMongo();
  }, 60_000);
  afterAll(() => started?.stop());
  return () => {
    if (!started) throw new Error('the test FerretDB is not started yet');
    return started;
  };
}

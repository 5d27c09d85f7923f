import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../process/repo-root.ts';
import { startPostgres, type TestPostgres } from '../testing/postgres.ts';
import { type ScratchServer, startScratchServer } from '../testing/scratch-server.ts';
import {
  acceptsConnections,
  type FerretDBBackend,
  type FerretDBHandle,
  resolveFerretDB,
  startFerretDB,
} from './ferretdb.ts';

const binary = resolveFerretDB(findRepoRoot());

function startOn(backend: FerretDBBackend) {
  return startScratchServer({ prefix: 'shop-ferretdb-', processName: 'ferretdb' }, (home) =>
    startFerretDB(home.group, { binary, dataDir: home.dir, backend }),
  );
}

/** Stores three inbox documents; whether FerretDB hands a filter on `userId` to its backend. */
async function userIdFilterPushedDown(url: string): Promise<{ found: number; pushed: boolean }> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const inbox = client.db().collection<{ _id: string; userId: string }>('inbox');
    await inbox.insertMany(['a', 'b', 'c'].map((userId, i) => ({ _id: `n${i}`, userId })));
    const found = await inbox.find({ userId: 'b' }).toArray();
    const plan = (await inbox.find({ userId: 'b' }).explain()) as { filterPushdown?: boolean };
    return { found: found.length, pushed: plan.filterPushdown === true };
  } finally {
    await client.close();
  }
}

describe('FerretDB on PostgreSQL, as npm start runs it', () => {
  let postgres: TestPostgres;
  let ferretdb: ScratchServer<FerretDBHandle>;
  beforeAll(async () => {
    postgres = await startPostgres();
    const postgresqlUrl = await postgres.createDatabase('ferretdb');
    ferretdb = await startOn({ postgresqlUrl });
  }, 60_000);
  afterAll(async () => {
    await ferretdb?.stop();
    await postgres?.stop();
  });

  it('hands an equality filter on any field to PostgreSQL, which SQLite does not', async () => {
    expect(await userIdFilterPushedDown(ferretdb.server.url('pushdown'))).toEqual({
      found: 1,
      pushed: true,
    });
    const onSqlite = await startOn({ sqlite: true });
    try {
      expect(await userIdFilterPushedDown(onSqlite.server.url('pushdown'))).toEqual({
        found: 1,
        pushed: false,
      });
    } finally {
      await onSqlite.stop();
    }
  });

  it('keeps its documents in PostgreSQL through a restart of FerretDB', async () => {
    const url = ferretdb.server.url('restart');
    await userIdFilterPushedDown(url);
    const { group, server } = ferretdb;
    await group.stop('ferretdb', { graceMs: 5_000 });
    group.restart('ferretdb');
    expect(await acceptsConnections(server.port, () => group.has('ferretdb'))).toBe(true);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    try {
      expect(await client.db().collection('inbox').countDocuments()).toBe(3);
    } finally {
      await client.close();
    }
  });
});

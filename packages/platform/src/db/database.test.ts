import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import {
  databaseBackends,
  openTestDatabase,
  recordingLogger,
  type TestDatabase,
} from '@shop/devkit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from './database.ts';
import { migrateToLatest } from './migrations.ts';
import {
  brokenMigrationsFolder,
  migrationsFolder,
  type TestTables,
  useWidgetsDatabase,
} from './testdata/backends.ts';

const tableNames = async (opened: TestDatabase<TestTables>) => {
  const tables = await opened.database.db.introspection.getTables();
  return tables.map((table) => table.name).sort();
};

/** The platform's tables, their migration bookkeeping and the test's own widgets. */
const migratedTables = [
  'dead_letters',
  'outbox',
  'platform_migration',
  'platform_migration_lock',
  'processed_events',
  'widgets',
];

describe.each(databaseBackends)('migrations on %s', (backend) => {
  const logger = recordingLogger();
  let opened: TestDatabase<TestTables>;
  beforeAll(async () => {
    opened = await openTestDatabase<TestTables>(backend, { logger, migrations: false });
  });
  afterAll(() => opened.close());

  it('apply once, then find nothing left to do', async () => {
    await migrateToLatest(opened.database.db, migrationsFolder, logger);
    expect(await tableNames(opened)).toEqual(migratedTables);
    const applied = () => logger.lines.filter((line) => line.msg === 'migration applied');
    expect(applied().map((line) => line.migration)).toEqual([
      '0001_outbox_processed_events_dead_letters',
      '0001_init',
    ]);

    await migrateToLatest(opened.database.db, migrationsFolder, logger);
    expect(applied()).toHaveLength(2);
  });

  it('name the migration that failed and keep none of its changes', async () => {
    await expect(
      migrateToLatest(opened.database.db, brokenMigrationsFolder, logger),
    ).rejects.toThrow(/migration 0002_broken failed: .*no_such_table/);
    expect(await tableNames(opened)).toEqual(migratedTables);
  });
});

describe.each(databaseBackends)(
  'a database made before the platform versioned its tables, on %s',
  (backend) => {
    let opened: TestDatabase<TestTables>;
    beforeAll(async () => {
      opened = await openTestDatabase<TestTables>(backend, { migrations: false });
    });
    afterAll(() => opened.close());

    it('keeps its processed-event receipts under their new name', async () => {
      const { db } = opened.database;
      // What a service's first migration used to create for the platform.
      await sql`create table inbox (consumer text not null, event_id text not null,
      processed_at timestamptz not null default now(), constraint inbox_pkey primary key (consumer, event_id))`.execute(
        db,
      );
      await sql`insert into inbox (consumer, event_id) values ('users.test', 'e-1')`.execute(db);
      await migrateToLatest(db, migrationsFolder, recordingLogger());
      expect(
        await db.selectFrom('processed_events').select(['consumer', 'event_id']).execute(),
      ).toEqual([{ consumer: 'users.test', event_id: 'e-1' }]);
      expect(await db.introspection.getTables()).not.toContainEqual(
        expect.objectContaining({ name: 'inbox' }),
      );
    });
  },
);

describe.each(databaseBackends)('a database on %s', (backend) => {
  const database = useWidgetsDatabase(backend);
  const countWidgets = () =>
    database()
      .db.selectFrom('widgets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();

  it('answers ping', async () => {
    await expect(database().ping()).resolves.toBeUndefined();
  });

  it('commits a transaction that returns and rolls back one that throws', async () => {
    const { db } = database();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('widgets').values({ id: 'kept', name: 'kept' }).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('widgets').values({ id: 'lost', name: 'lost' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const ids = await db.selectFrom('widgets').select('id').execute();
    expect(ids).toEqual([{ id: 'kept' }]);
  });

  it('keeps concurrent transactions apart', async () => {
    const { db } = database();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // One transaction writes and lingers, then rolls back; the others must never see its row.
    const writer = db.transaction().execute(async (trx) => {
      await trx.insertInto('widgets').values({ id: 'w', name: 'uncommitted' }).execute();
      await held;
      throw new Error('roll back');
    });
    const readers = Array.from({ length: 5 }, () =>
      db.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('widgets').selectAll().execute();
        return rows.length;
      }),
    );
    setTimeout(release, 100);
    await expect(writer).rejects.toThrow('roll back');
    expect(await Promise.all(readers)).toEqual([0, 0, 0, 0, 0]);
    expect((await countWidgets()).n).toBe(0);
  });

  it('rolls back to a savepoint and keeps the rest of the transaction', async () => {
    const { db } = database();
    const trx = await db.startTransaction().execute();
    await trx.insertInto('widgets').values({ id: 'a', name: 'a' }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('widgets').values({ id: 'b', name: 'b' }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    const ids = await db.selectFrom('widgets').select('id').execute();
    expect(ids).toEqual([{ id: 'a' }]);
  });

  it('reads bigint counts as numbers, as on the other backend', async () => {
    await database().db.insertInto('widgets').values({ id: 'x', name: 'x' }).execute();
    const { n } = await countWidgets();
    expect(n).toBe(1);
    const { big } = await sql<{ big: unknown }>`select 9007199254740993::bigint as big`
      .execute(database().db)
      .then((result) => result.rows[0] ?? { big: undefined });
    expect(big).toBe(9007199254740993n);
  });
});

describe('an embedded PGlite with a data folder', () => {
  it('keeps its data across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shop-pglite-'));
    const logger = recordingLogger();
    try {
      const first = createDatabase<TestTables>({ pgliteDataDir: dir, logger });
      await migrateToLatest(first.db, migrationsFolder, logger);
      await first.db.insertInto('widgets').values({ id: 'durable', name: 'd' }).execute();
      await first.close();

      const second = createDatabase<TestTables>({ pgliteDataDir: dir, logger });
      await migrateToLatest(second.db, migrationsFolder, logger);
      expect(await second.db.selectFrom('widgets').select('id').execute()).toEqual([
        { id: 'durable' },
      ]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(databaseBackends)('an extension a migration creates, on %s', (backend) => {
  let opened: TestDatabase<TestTables>;
  beforeAll(async () => {
    opened = await openTestDatabase<TestTables>(backend, {
      migrations: false,
      pgliteExtensions: { pg_trgm },
    });
  });
  afterAll(() => opened.close());

  it('is available on the embedded database as on PostgreSQL', async () => {
    const { db } = opened.database;
    await sql`create extension if not exists pg_trgm`.execute(db);
    const { rows } = await sql<{
      close: boolean;
    }>`select similarity('running', 'runnning') > 0.5 as close`.execute(db);
    expect(rows).toEqual([{ close: true }]);
  });
});

import { openTestDatabase, type TestDatabase } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';

// PostgreSQL killed while a transaction sat between two statements: its client is checked out
// of the pool, so the FATAL goes to the client itself, and unhandled it ended the service.
describe('a connection lost inside a transaction', () => {
  let test: TestDatabase<unknown>;
  const lines: string[] = [];

  beforeAll(async () => {
    const logger = createLogger({ service: 'test', write: (line) => void lines.push(line) });
    test = await openTestDatabase('postgres', { migrations: false, logger });
  });
  afterAll(() => test?.close());

  it('fails that transaction only; the process and the pool go on', async () => {
    const { db } = test.database;
    const outcome = await db
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(db);
        // The FATAL arrives while nothing runs on this client.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`select 1`.execute(trx);
      })
      .then(
        () => 'committed',
        () => 'failed',
      );
    expect(outcome).toBe('failed');
    expect(lines.join('\n')).toContain('database connection failed');
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});

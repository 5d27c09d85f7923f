import { databaseBackends, openTestDatabase, type TestDatabase } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, createServiceApp } from '../http/app.ts';
import { createLogger } from '../logger.ts';
import { isDataException } from './data-errors.ts';

// Each value below is one PostgreSQL refuses itself (SQLSTATE class 22), sent straight to
// the database by a route with no validation: the app answers 400, never a 500 that a
// caller would count against the service.
const refused = {
  nul: sql`select ${'a\u0000b'}::text`,
  'int4-overflow': sql`select ${'2147483648'}::int4`,
  'bad-timestamp': sql`select ${'2026-02-30T00:00:00Z'}::timestamptz`,
  'bad-uuid': sql`select ${'not-a-uuid'}::uuid`,
};

describe.each(databaseBackends)('data exceptions on %s', (backend) => {
  let test: TestDatabase<unknown>;
  const lines: string[] = [];
  const appApiToken = 'test-app-token-0123456789';

  beforeAll(async () => {
    test = await openTestDatabase(backend, { migrations: false });
  });
  afterAll(() => test?.close());

  function buildApp() {
    const logger = createLogger({ service: 'test', write: (line) => void lines.push(line) });
    const app = createServiceApp({ service: 'test', logger, appApiToken });
    const router = createRouter();
    for (const [name, query] of Object.entries(refused)) {
      router.get(`/${name}`, async (c) => {
        await query.execute(test.database.db);
        return c.text('stored');
      });
    }
    app.route('/', router);
    return app;
  }

  it.each(Object.keys(refused))('%s answers 400 bad_request as problem+json', async (name) => {
    const res = await buildApp().request(`/${name}`, {
      headers: { 'dapr-api-token': appApiToken },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: 'urn:shop:problem:bad-request' });
    expect(lines.at(-2)).toContain('the database refused a value of the request');
  });

  it('tells a data exception from other database errors', async () => {
    const caught = (query: ReturnType<typeof sql>) =>
      query.execute(test.database.db).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isDataException(await caught(refused.nul))).toBe(true);
    expect(isDataException(await caught(sql`select * from no_such_table`))).toBe(false);
    expect(isDataException(await caught(sql`select 1 / 0`))).toBe(true);
    expect(isDataException(Object.assign(new Error('x'), { code: '22P05' }))).toBe(false);
  });
});

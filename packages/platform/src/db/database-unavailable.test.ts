import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createRouter, createServiceApp } from '../http/app.ts';
import { createLogger } from '../logger.ts';
import { isDatabaseUnavailable } from './data-errors.ts';

const appApiToken = 'test-app-token-0123456789';

/** A port nothing listens on: taken from the kernel, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What pg throws when the database is not there, as a killed PostgreSQL leaves it. */
async function refusedConnection(): Promise<unknown> {
  const client = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'x' });
  return client.connect().then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('a database that is away', () => {
  it('answers 503 with Retry-After, not 500, while the database cannot be reached', async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'test', write: (line) => void lines.push(line) });
    const app = createServiceApp({ service: 'test', logger, appApiToken });
    const error = await refusedConnection();
    app.route(
      '/',
      createRouter().get('/orders', () => {
        throw error;
      }),
    );
    const res = await app.request('/orders', { headers: { 'dapr-api-token': appApiToken } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ type: 'urn:shop:problem:upstream-unavailable' });
    expect(lines.join('\n')).toContain('a database is unavailable');
  });

  it('tells a database restarting or unreachable from other failures', async () => {
    expect(isDatabaseUnavailable(await refusedConnection())).toBe(true);
    // What PostgreSQL answers while it recovers, and pg when the server died under a query.
    expect(
      isDatabaseUnavailable({ code: '57P03', message: 'the database system is starting up' }),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable({ name: 'MongoServerSelectionError', message: 'x' })).toBe(true);
    // FerretDB passing on that its PostgreSQL is away (seen in a soak).
    const killed = '[query_iterator.go:92] FATAL: terminating connection (SQLSTATE 57P01)';
    expect(isDatabaseUnavailable({ name: 'MongoServerError', code: 1, message: killed })).toBe(
      true,
    );
    const ferret = 'failed to connect to `user=postgres database=ferretdb`: dial error';
    expect(isDatabaseUnavailable({ name: 'MongoServerError', code: 1, message: ferret })).toBe(
      true,
    );
    expect(
      isDatabaseUnavailable({ name: 'MongoServerError', code: 11000, message: 'E11000' }),
    ).toBe(false);
    expect(isDatabaseUnavailable({ code: '23505', message: 'duplicate key' })).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
  });
});

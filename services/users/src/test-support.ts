import { fileURLToPath } from 'node:url';
import { startPostgres, testTokenSettings, viaSidecar } from '@shop/devkit/testing';
import { createLogger, type ShopEvent } from '@shop/platform';
import {
  createKeyring,
  generateSigningKeySet,
  loadSigningKeys,
  signingKeysSecretName,
} from '@shop/platform/auth';
import { createDatabase, migrateToLatest, startOutboxRelay } from '@shop/platform/db';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from './app.ts';
import type { UsersTables } from './tables.ts';

export const backends = ['pglite', 'postgres'] as const;
export type Backend = (typeof backends)[number];

const appApiToken = 'users-app-token-0123456789';

export type CallOptions = {
  body?: unknown;
  token?: string;
  caller?: string;
  clientAddress?: string;
};

/**
 * The users app over a real database (a private PostgreSQL or an in-memory PGlite), with
 * real signing keys; only the broker is replaced, by a list the test can read.
 */
export function useUsersApp(backend: Backend) {
  const published: ShopEvent[] = [];
  const logger = createLogger({ service: 'users', write: () => {} });
  let context: Awaited<ReturnType<typeof open>> | undefined;

  async function open() {
    const server = backend === 'postgres' ? await startPostgres() : undefined;
    const database = createDatabase<UsersTables>({
      url: server ? await server.createDatabase('users') : undefined,
      logger,
    });
    await migrateToLatest(
      database.db,
      fileURLToPath(new URL('../migrations', import.meta.url)),
      logger,
    );
    const keySet = JSON.stringify(await generateSigningKeySet());
    const keyring = await createKeyring({
      load: () => loadSigningKeys(async () => ({ [signingKeysSecretName]: keySet })),
      logger,
    });
    const outbox = startOutboxRelay({
      db: database.db,
      logger,
      publish: async (event) => void published.push(event),
      pollIntervalMs: 50,
    });
    const app = createApp({
      config: {
        APP_API_TOKEN: appApiToken,
        REFRESH_TOKEN_TTL_DAYS: 30,
        ACCESS_TOKEN_TTL_SECONDS: 900,
        JWT_ISSUER: testTokenSettings.issuer,
        JWT_AUDIENCE: testTokenSettings.audience,
      },
      logger,
      db: database.db,
      outbox,
      keyring,
      readiness: { sidecar: async () => {}, database: database.ping },
    });
    return {
      app,
      db: database.db,
      outbox,
      keyring,
      async close() {
        keyring.stop();
        await outbox.stop();
        await database.close();
        await server?.stop();
      },
    };
  }

  beforeAll(async () => {
    context = await open();
  }, 60_000);
  afterAll(() => context?.close());

  const get = () => {
    if (!context) throw new Error('the users app is not open yet');
    return context;
  };

  const call = async (
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (options.caller) headers['dapr-caller-app-id'] = options.caller;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.clientAddress) headers['x-forwarded-for'] = options.clientAddress;
    return viaSidecar(get().app, appApiToken)(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  };

  return { get, call, published };
}

let counter = 0;

/** An email nobody else in this test file uses. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${++counter}-${Date.now()}@example.com`;
}

export const password = 'correct horse battery';

import { type Logger, openApiDocumentPath, type ShopEvent } from '@shop/platform';
import {
  type DatabaseOptions,
  type OutboxRelay,
  type PlatformTables,
  startOutboxRelay,
} from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import {
  type DatabaseBackend,
  openTestDatabase,
  silentLogger,
  type TestDatabase,
} from './database.ts';
import { openApiResponseChecker } from './openapi-conformance.ts';
import { viaSidecar } from './via-sidecar.ts';

/** Anything with Hono's in-process `request`. */
export type RequestableApp = {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
};

export type CallOptions = {
  /** Sent as JSON. */
  body?: unknown;
  /** An access token, sent as `Authorization: Bearer`. */
  token?: string;
  /** The calling app as Dapr stamps it: `gateway` unless given; `null` for a pub/sub delivery. */
  caller?: string | null;
  headers?: Record<string, string>;
};

export type ServiceCall = (
  method: string,
  path: string,
  options?: CallOptions,
) => Promise<Response>;

/**
 * Calls an app in process as its sidecar would (app token, calling app id), with JSON
 * bodies and bearer tokens made easy.
 *
 * @example
 * const call = serviceCaller(app, appApiToken);
 * const res = await call('POST', '/api/v1/orders', { body: order, token });
 */
export function serviceCaller(app: RequestableApp, appApiToken: string): ServiceCall {
  return (method, path, options = {}) => {
    const headers = new Headers(options.headers);
    if (options.body !== undefined) headers.set('content-type', 'application/json');
    if (options.token) headers.set('authorization', `Bearer ${options.token}`);
    const caller = options.caller === undefined ? 'gateway' : options.caller;
    return viaSidecar(
      app,
      appApiToken,
      caller,
    )(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  };
}

/**
 * A publisher that keeps what it is given, in order, for a relay under test: the outbox,
 * the relay and the database are real; only the broker is replaced by this list.
 */
export function recordingPublisher(): {
  published: ShopEvent[];
  publish(event: ShopEvent): Promise<void>;
} {
  const published: ShopEvent[] = [];
  return { published, publish: async (event) => void published.push(event) };
}

export type ServiceAppDeps<DB extends PlatformTables> = {
  db: Kysely<DB>;
  outbox: OutboxRelay;
  logger: Logger;
  appApiToken: string;
  /** Runs after the tests, before the database closes (timers, keyrings). */
  onClose(close: () => unknown): void;
};

export type ServiceAppHarness<DB extends PlatformTables, App> = {
  /** The open app and what it was built on; available from the first test on. */
  get(): { app: App; db: Kysely<DB>; outbox: OutboxRelay };
  /** Every event the app's outbox relay has published so far. */
  published: ShopEvent[];
  /** Calls the app as its sidecar would; every answer is checked against the app's own OpenAPI document. */
  call: ServiceCall;
  /**
   * Delivers an event as a Dapr subscription does (to `/events/<route>`, by default its
   * type) and answers what the app told Dapr: SUCCESS, RETRY or DROP.
   */
  deliver(event: unknown, route?: string): Promise<string>;
  appApiToken: string;
};

/**
 * Gives the enclosing describe one service app over a real database on `backend`, with
 * its migrations applied and a real outbox relay whose publishes are recorded. Every
 * answer a test receives through `call` must match the app's OpenAPI document, or the
 * call throws naming the mismatch.
 *
 * @example
 * describe.each(databaseBackends)('orders on %s', (backend) => {
 *   const orders = useServiceApp<OrdersTables, OrdersApp>({ backend, migrations, createApp: (deps) => createApp({ ...deps, config }) });
 *   it('...', async () => expect((await orders.call('GET', '/api/v1/orders', { token })).status).toBe(200));
 * });
 */
type ServiceAppOptions<DB extends PlatformTables, App extends RequestableApp> = {
  backend: DatabaseBackend;
  migrations: URL;
  createApp(deps: ServiceAppDeps<DB>): App | Promise<App>;
  appApiToken?: string;
  /** Extensions the service's migrations create, loaded into PGlite (see DatabaseOptions). */
  pgliteExtensions?: DatabaseOptions['pgliteExtensions'];
};

type OpenedApp<DB extends PlatformTables, App> = {
  app: App;
  db: Kysely<DB>;
  outbox: OutboxRelay;
  closers: Array<() => unknown>;
  database: TestDatabase<DB>;
};

export function useServiceApp<DB extends PlatformTables, App extends RequestableApp>(
  options: ServiceAppOptions<DB, App>,
): ServiceAppHarness<DB, App> {
  const appApiToken = options.appApiToken ?? 'test-app-token-0123456789';
  const publisher = recordingPublisher();
  let opened: OpenedApp<DB, App> | undefined;
  beforeAll(async () => {
    opened = await openServiceApp(options, appApiToken, publisher.publish);
  }, 60_000);
  afterAll(async () => {
    if (opened) await closeServiceApp(opened);
  });

  const get = () => {
    if (!opened) throw new Error('the service app is not open yet');
    return opened;
  };
  const asSidecar: ServiceCall = (method, path, callOptions) =>
    serviceCaller(get().app, appApiToken)(method, path, callOptions);
  const conforming = openApiResponseChecker(async () =>
    (await asSidecar('GET', openApiDocumentPath)).json(),
  );
  const call: ServiceCall = async (method, path, callOptions) =>
    conforming(method, path, await asSidecar(method, path, callOptions));
  return {
    get,
    appApiToken,
    published: publisher.published,
    call,
    deliver: (event, route) => deliverAsSubscription(call, event, route),
  };
}

async function deliverAsSubscription(
  call: ServiceCall,
  event: unknown,
  route = (event as { type: string }).type,
): Promise<string> {
  const res = await call('POST', `/events/${route}`, { body: event, caller: null });
  return ((await res.json()) as { status: string }).status;
}

/** A migrated database, an outbox relay publishing to `publish`, and the app over both. */
async function openServiceApp<DB extends PlatformTables, App extends RequestableApp>(
  options: ServiceAppOptions<DB, App>,
  appApiToken: string,
  publish: Parameters<typeof startOutboxRelay>[0]['publish'],
): Promise<OpenedApp<DB, App>> {
  const logger = silentLogger();
  const database = await openTestDatabase<DB>(options.backend, {
    migrations: options.migrations,
    pgliteExtensions: options.pgliteExtensions,
    logger,
  });
  const { db } = database.database;
  const outbox = startOutboxRelay({ db, logger, publish, pollIntervalMs: 50 });
  const closers: Array<() => unknown> = [];
  const app = await options.createApp({
    db,
    outbox,
    logger,
    appApiToken,
    onClose: (close) => void closers.push(close),
  });
  return { app, db, outbox, closers, database };
}

/** Closes what the app registered (last first), then the relay, then the database. */
async function closeServiceApp<DB extends PlatformTables>(
  opened: OpenedApp<DB, unknown>,
): Promise<void> {
  for (const close of opened.closers.reverse()) await close();
  await opened.outbox.stop();
  await opened.database.close();
}

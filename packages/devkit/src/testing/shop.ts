import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mailpitProcessName, pingRedis } from '../infra/index.ts';
import { pollUntil } from '../process/poll.ts';
import { type RunningShop, type ShopOptions, startShop } from '../shop/index.ts';
import { trackShop } from './failure-report.ts';
import { openApiResponseChecker } from './openapi-conformance.ts';

export type TestShop = RunningShop & {
  /** A request to the public gateway. */
  gateway(path: string, init?: RequestInit): Promise<Response>;
  /** A request to the public gateway with `body` sent as JSON and `token` as its bearer credential. */
  send(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Logs in through the gateway and returns the access token; throws unless the login succeeds. */
  login(email: string, password: string): Promise<string>;
  /** Calls `path` on `appId` through the sidecar of `via` (default: the gateway's), as that app would. */
  invoke(appId: string, path: string, init?: RequestInit & { via?: string }): Promise<Response>;
  /** Publishes a complete CloudEvent through the sidecar of `via` (default: the first app). */
  publish(event: { type: string; id: string }, via?: string): Promise<void>;
  /** What a process wrote so far (logs/<name>.log). */
  log(name: string): string;
  /** Kills a process with SIGKILL, as a crash would; the rest of the shop keeps running. */
  kill(name: string): Promise<void>;
  /** Starts a killed process again, the same way, and waits until it answers. */
  restart(name: string): Promise<void>;
};

// Tests send far more from one address and as one user than any client may; a test of the
// limits themselves sets its own through `appEnv.gateway`.
const testRateLimits = {
  RATE_LIMIT_AUTH: '1000000/60s',
  RATE_LIMIT_SEARCH: '1000000/60s',
  RATE_LIMIT_CHECKOUT: '1000000/60s',
  RATE_LIMIT_DEFAULT: '1000000/60s',
};

export type TestShopOptions = Partial<ShopOptions> & {
  postgres?: boolean;
  /**
   * Checks every answer `gateway` and `send` return against the gateway's merged
   * OpenAPI document (GET /openapi.json, loaded on first use): one that breaks it throws,
   * naming each mismatch. On unless turned off, so every end-to-end test checks the
   * document against what the services really answer.
   */
  checkOpenApi?: boolean;
};

/**
 * The whole shop (or the named apps) in a throw-away folder, logs to files, for tests.
 *
 * @example
 * const shop = await startTestShop({ apps: ['gateway', 'users'] });
 * const res = await shop.gateway('/api/v1/auth/register', { method: 'POST', body });
 * await shop.stop();
 */
export async function startTestShop(options: TestShopOptions = {}): Promise<TestShop> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'shop-test-'));
  const shop = await startShop(shopOptionsForTests(options, dataDir));
  const untrack = trackShop(dataDir);
  const { gateway, send } = gatewayClient(shop, options.checkOpenApi ?? true);
  return {
    ...shop,
    gateway,
    send,
    login: (email, password) => login(send, email, password),
    invoke: (appId, path, init) => invokeVia(shop, appId, path, init),
    publish: (event, via) => publishVia(shop, event, via),
    log: (name) => readLog(dataDir, name),
    async kill(name) {
      await shop.group.stop(name, { signal: 'SIGKILL' });
    },
    async restart(name) {
      shop.group.restart(name);
      await untilAnswering(shop, name);
    },
    async stop() {
      untrack();
      await shop.stop();
      if (!options.dataDir && !process.env.SHOP_KEEP_TEST_DATA)
        rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function shopOptionsForTests(options: TestShopOptions, dataDir: string): ShopOptions {
  return {
    output: 'files',
    daprLogLevel: 'info',
    // A database per service on one private PostgreSQL, as in production; `postgres: false`
    // leaves them on embedded PGlite. Nothing here must survive a crash.
    database: options.postgres === false ? 'pglite' : 'postgres',
    durable: false,
    // Tests publish events through whichever sidecar they run (standing in for the
    // producer) and subscribe probes of their own; a test of the scopes turns this off.
    openTopics: true,
    // Jaeger and Prometheus only for the tests that read them (`observability: true`).
    observability: false,
    ...options,
    appEnv: { ...options.appEnv, gateway: { ...testRateLimits, ...options.appEnv?.gateway } },
    dataDir,
  };
}

/** Requests to the shop's gateway, each answer checked against its OpenAPI document if asked. */
function gatewayClient(
  shop: RunningShop,
  checkOpenApi: boolean,
): Pick<TestShop, 'gateway' | 'send'> {
  const fetchGateway = (path: string, init?: RequestInit) => {
    if (!shop.gatewayUrl) throw new Error('this test shop runs no gateway');
    return fetch(`${shop.gatewayUrl}${path}`, {
      ...init,
      signal: init?.signal ?? AbortSignal.timeout(20_000),
    });
  };
  const conforming = checkOpenApi
    ? openApiResponseChecker(async () => {
        const res = await fetchGateway('/openapi.json');
        if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
        return res.json();
      })
    : undefined;
  const gateway = async (path: string, init?: RequestInit) => {
    const res = await fetchGateway(path, init);
    return conforming ? conforming(init?.method ?? 'GET', path, res) : res;
  };
  const send: TestShop['send'] = (method, path, options = {}) => {
    const headers = new Headers(options.headers);
    if (options.body !== undefined) headers.set('content-type', 'application/json');
    if (options.token) headers.set('authorization', `Bearer ${options.token}`);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return gateway(path, { method, headers, body });
  };
  return { gateway, send };
}

async function login(send: TestShop['send'], email: string, password: string): Promise<string> {
  const res = await send('POST', '/api/v1/auth/login', { body: { email, password } });
  if (res.status !== 200)
    throw new Error(`login of ${email} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

function sidecarOf(shop: RunningShop, appId: string) {
  const app = shop.apps[appId];
  if (!app) throw new Error(`${appId} is not running in this test shop`);
  return app;
}

function invokeVia(
  shop: RunningShop,
  appId: string,
  path: string,
  init: RequestInit & { via?: string } = {},
): Promise<Response> {
  const via = sidecarOf(shop, init.via ?? 'gateway');
  const headers = new Headers(init.headers);
  headers.set('dapr-api-token', via.daprApiToken);
  return fetch(`http://127.0.0.1:${via.daprHttpPort}/v1.0/invoke/${appId}/method${path}`, {
    ...init,
    headers,
    signal: init.signal ?? AbortSignal.timeout(20_000),
  });
}

async function publishVia(
  shop: RunningShop,
  event: { type: string; id: string },
  via = Object.keys(shop.apps)[0] ?? 'gateway',
): Promise<void> {
  const app = sidecarOf(shop, via);
  const res = await fetch(
    `http://127.0.0.1:${app.daprHttpPort}/v1.0/publish/pubsub/${event.type}`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        'dapr-api-token': app.daprApiToken,
      },
      body: JSON.stringify(event),
    },
  );
  if (!res.ok) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
}

function readLog(dataDir: string, name: string): string {
  try {
    return readFileSync(join(dataDir, 'logs', `${name}.log`), 'utf8');
  } catch {
    return '';
  }
}

/** Waits until the process `name`, just restarted, answers its probe again. */
async function untilAnswering(shop: RunningShop, name: string): Promise<void> {
  const wait = (probe: () => Promise<true | undefined>) =>
    pollUntil(probe, { timeoutMs: 30_000, what: `${name} to answer after its restart` });
  const app = Object.values(shop.apps).find(
    (a) => a.sidecarName === name || a.processName === name,
  );
  if (name === 'redis') {
    const { port, host, password } = shop.redis;
    await wait(async () => ((await pingRedis(port, host, password)) ? true : undefined));
  } else if (name === mailpitProcessName && shop.mailpit) {
    await wait(() => answersOk(`${shop.mailpit?.apiUrl}/api/v1/messages?limit=1`));
  } else if (app?.sidecarName === name) {
    const sidecar = `http://127.0.0.1:${app.daprHttpPort}/v1.0`;
    await wait(() => answersOk(`${sidecar}/healthz/outbound`));
    // Fully healthy only once it reaches its app, which may itself be restarted next.
    if (app.processName && shop.group.has(app.processName))
      await wait(() => answersOk(`${sidecar}/healthz`));
  } else if (app) {
    await wait(() => answersOk(`http://127.0.0.1:${app.appPort}/readyz`));
  }
}

async function answersOk(url: string): Promise<true | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
  return res?.ok ? true : undefined;
}

/**
 * How many deliveries of `eventId` the app `name` has handled so far: its event consumer
 * (packages/platform) logs `event handled` once per delivery, whatever the outcome. A
 * positive signal that an event was consumed, where a sleep would only hope so.
 */
export function handledDeliveries(shop: Pick<TestShop, 'log'>, name: string, eventId: string) {
  return shop
    .log(name)
    .split('\n')
    .filter((line) => line.includes('"event handled"') && line.includes(eventId)).length;
}

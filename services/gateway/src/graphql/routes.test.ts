import { createTestTokens } from '@shop/devkit/testing';
import { createLogger } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';

// Only what the gateway itself decides: how a service's answer becomes a GraphQL error, and
// the limits. The real flows through the services are in test/e2e/graphql.test.ts.
const logger = createLogger({ service: 'gateway', write: () => {} });
type Invoke = (appId: string, path: string, init: RequestInit) => Promise<Response>;
type Call = { appId: string; path: string; headers: Headers };

const tokens = await createTestTokens();
const accessToken = await tokens.issue('u-1');

function gatewayWith(invoke: Invoke, config: { GRAPHQL_DEADLINE_MS?: number } = {}) {
  const calls: Call[] = [];
  const app = createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 200,
      TRUSTED_PROXY_HOPS: 0,
      ...config,
    },
    logger,
    sidecar: {
      invoke: (appId, path, init) => {
        calls.push({ appId, path, headers: new Headers(init.headers) });
        return invoke(appId, path, init);
      },
      ready: async () => {},
    },
    verifier: tokens.verifier,
  });
  return { app, calls };
}

const problem = (status: number, type: string, detail: string) =>
  new Response(
    JSON.stringify({
      type: `urn:shop:problem:${type}`,
      title: 't',
      status,
      detail,
      requestId: 'r-1',
    }),
    { status, headers: { 'content-type': 'application/problem+json' } },
  );

type Result = {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions: Record<string, unknown> }>;
};

async function graphql(
  app: ReturnType<typeof createApp>,
  query: string,
  headers: Record<string, string> = {},
  variables?: Record<string, unknown>,
) {
  const res = await app.request('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': 'r-1',
      authorization: `Bearer ${accessToken}`,
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { res, body: (await res.json()) as Result };
}

describe('GraphQL errors', () => {
  it("gives a service's problem its REST code, type, status and the request id", async () => {
    const { app, calls } = gatewayWith(async () => problem(404, 'not-found', 'no such order'));
    const { res, body } = await graphql(
      app,
      '{ order(id: "5f0c3e5e-1a53-4a39-a1c4-1b61d3ae1a11") { id } }',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(body.data).toEqual({ order: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'no such order',
        path: ['order'],
        extensions: {
          code: 'not_found',
          type: 'urn:shop:problem:not-found',
          status: 404,
          requestId: 'r-1',
        },
      }),
    ]);
    expect(calls[0]?.appId).toBe('orders');
    expect(calls[0]?.path).toBe('/api/v1/orders/5f0c3e5e-1a53-4a39-a1c4-1b61d3ae1a11');
    expect(calls[0]?.headers.get('authorization')).toBe(`Bearer ${accessToken}`);
    expect(calls[0]?.headers.get('x-request-id')).toBe('r-1');
  });

  it('keeps the field errors of a validation problem', async () => {
    const { app } = gatewayWith(
      async () =>
        new Response(
          JSON.stringify({
            type: 'urn:shop:problem:validation-failed',
            status: 400,
            detail: 'the request does not match the schema',
            errors: [{ path: 'limit', message: 'Too big' }],
          }),
          { status: 400, headers: { 'content-type': 'application/problem+json' } },
        ),
    );
    const { body } = await graphql(app, '{ products(first: 101) { items { id } } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'validation_failed',
      status: 400,
      errors: [{ path: 'limit', message: 'Too big' }],
    });
  });

  it('answers upstream_unavailable when Dapr, not the service, fails', async () => {
    const { app } = gatewayWith(async () => new Response('ERR_DIRECT_INVOKE', { status: 500 }));
    const { body } = await graphql(app, '{ me { id } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'upstream_unavailable',
      status: 503,
    });

    const { app: unreachable } = gatewayWith(async () => {
      throw new TypeError('fetch failed');
    });
    const { body: failed } = await graphql(unreachable, '{ me { id } }');
    expect(failed.errors?.[0]?.extensions.code).toBe('upstream_unavailable');
  });

  it('hides an unexpected failure behind internal and the request id', async () => {
    const { app } = gatewayWith(
      async () =>
        new Response('{"items": "not a list"}', {
          headers: { 'content-type': 'application/json' },
        }),
    );
    const { body } = await graphql(app, '{ categories { name } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'internal', requestId: 'r-1' });
  });
});

describe('GraphQL refusals', () => {
  it('never puts an id that is not a plain path segment into a path', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const { body } = await graphql(app, '{ order(id: "..%2Fadmin") { id } }');
    expect(body.errors?.[0]?.extensions.code).toBe('not_found');
    expect(calls).toEqual([]);
  });

  it('gives GraphQL refusals the platform codes', async () => {
    const { app } = gatewayWith(async () => new Response('{}'));
    const parse = await graphql(app, '{ products {');
    expect(parse.body.errors?.[0]?.extensions).toMatchObject({
      code: 'bad_request',
      requestId: 'r-1',
    });
    const invalid = await graphql(app, '{ products { nope } }');
    expect(invalid.body.errors?.[0]?.extensions).toMatchObject({
      code: 'validation_failed',
      type: 'urn:shop:problem:validation-failed',
      requestId: 'r-1',
    });
  });

  it('refuses a bad token before any service, as the REST proxy does', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const { res } = await graphql(app, '{ me { id } }', { authorization: 'Bearer not-a-token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(calls).toEqual([]);
  });
});

/** A request over a limit is refused whole, as REST refuses one: 400 problem+json. */
function expectRefused(answer: { res: Response; body: unknown }, detail: string | RegExp) {
  expect(answer.res.status).toBe(400);
  expect(answer.res.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({
    type: 'urn:shop:problem:bad-request',
    status: 400,
    detail: typeof detail === 'string' ? detail : expect.stringMatching(detail),
    requestId: 'r-1',
  });
}

describe('GraphQL limits', () => {
  it('refuses a query nested too deep before calling any service', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const answer = await graphql(
      app,
      '{ __type(name: "Order") { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }',
    );
    expectRefused(answer, 'Query depth limit of 7 exceeded, found 8.');
    expect(calls).toEqual([]);
  });

  it('refuses a query that costs too much before calling any service', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const fields = Array.from(
      { length: 10 },
      (_, i) => `o${i}: myOrders(first: 100) { items { id items { product { id name } } } }`,
    );
    const answer = await graphql(app, `{ ${fields.join(' ')} }`);
    expectRefused(answer, /^Query Cost limit of 5000 exceeded, found \d+/);
    expect(calls).toEqual([]);
  });

  it('costs `first` sent as a variable as it costs it written out', async () => {
    const { app, calls } = gatewayWith(async () => Response.json({ items: [], nextCursor: null }));
    const search = `query ($n: Int) { products(q: "lamp", first: $n) { items { id name } } }`;
    const overCost = 'Query Cost limit of 5000 exceeded, found 9500.';
    expectRefused(await graphql(app, search.replace('$n)', '1000)')), overCost);
    expectRefused(await graphql(app, search, {}, { n: 1000 }), overCost);
    expectRefused(await graphql(app, search.replace('$n: Int', '$n: Int = 1000')), overCost);
    expect(calls).toEqual([]);

    const small = await graphql(app, search, {}, { n: 10 });
    expect(small.body.errors).toBeUndefined();
    expect(calls.map((call) => call.path)).toEqual(['/api/v1/products?q=lamp&limit=10']);
  });

  it('caps aliases and root fields before calling any service', async () => {
    const { app, calls } = gatewayWith(async () => Response.json({ items: [] }));
    const aliased = (n: number) =>
      Array.from({ length: n }, (_, i) => `c${i}: categories { name }`).join(' ');
    expectRefused(
      await graphql(app, `{ ${aliased(16)} }`),
      'Aliases limit of 15 exceeded, found 16.',
    );
    // Fragments do not hide root fields.
    const rootFields = await graphql(
      app,
      `{ ...Some ... on Query { me { id } } } fragment Some on Query { ${aliased(10)} }`,
    );
    expectRefused(rootFields, 'Root fields limit of 10 exceeded, found 11.');
    expect(calls).toEqual([]);
    expect((await graphql(app, `{ ${aliased(10)} }`)).body.errors).toBeUndefined();
    expect(calls).toHaveLength(10);
  });
});

describe('GraphQL timelines and deadline', () => {
  it('reads each order’s timeline once, and at most 20 in one request', async () => {
    const orders = Array.from({ length: 25 }, (_, i) => ({ id: `o-${i}`, items: [] }));
    const { app, calls } = gatewayWith(async (_appId, path) => {
      if (path.endsWith('/timeline')) return Response.json({ items: [] });
      if (path === '/api/v1/orders/o-1') return Response.json(orders[1]);
      const limit = new URL(path, 'http://orders').searchParams.get('limit');
      return Response.json({ items: orders.slice(0, Number(limit)), nextCursor: null });
    });
    const { body } = await graphql(
      app,
      '{ a: order(id: "o-1") { timeline { step } } b: order(id: "o-1") { timeline { step } } }',
    );
    expect(body.errors).toBeUndefined();
    expect(calls.filter((call) => call.path.endsWith('/timeline'))).toHaveLength(1);

    calls.length = 0;
    const page = (first: number) =>
      graphql(app, `{ myOrders(first: ${first}) { items { id timeline { step } } } }`);
    const twenty = await page(20);
    expect(twenty.body.errors).toBeUndefined();
    expect(calls.filter((call) => call.path.endsWith('/timeline'))).toHaveLength(20);

    calls.length = 0;
    const more = await page(25);
    expect(calls.filter((call) => call.path.endsWith('/timeline'))).toEqual([]);
    expect(more.body.data).toEqual({ myOrders: null });
    expect(more.body.errors?.[0]).toMatchObject({
      message: 'at most 20 order timelines in one request; ask for fewer orders',
      extensions: { code: 'bad_request', limit: 'timelines' },
    });
  });

  it('ends every call of an operation at its one deadline, and answers', async () => {
    const signals: AbortSignal[] = [];
    const { app, calls } = gatewayWith(
      (_appId, _path, init) =>
        new Promise((_, reject) => {
          const signal = init.signal as AbortSignal;
          signals.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { GRAPHQL_DEADLINE_MS: 100 },
    );
    const started = Date.now();
    const { res, body } = await graphql(app, '{ me { id } categories { name } }');
    // The deadline, before each call's own 200 ms timeout.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(body.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'upstream_timeout', status: 504, limit: 'deadline' }),
      expect.objectContaining({ code: 'upstream_timeout', status: 504, limit: 'deadline' }),
    ]);
    expect(body.errors?.[0]?.message).toBe(
      'the operation ran past its deadline of 100 ms; ask for less at once',
    );
  });
});

describe('GraphiQL', () => {
  const { app } = gatewayWith(async () => new Response('{}'));
  const page = () => app.request('/graphql', { headers: { accept: 'text/html' } });
  const filesOf = (html: string) =>
    [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');

  it('is a page of a few KB at GET /graphql that names its files, nothing from a CDN', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html.length).toBeLessThan(2_048);
    // Every script is a file: the page needs no inline script.
    expect(html).not.toMatch(/<script>/);
    const files = filesOf(html);
    expect(files).toHaveLength(4);
    for (const file of files) expect(file).toMatch(/^\/graphql\/assets\//);
  });

  it('serves its files cacheable, with ETag and gzip', async () => {
    const files = filesOf(await (await page()).text());
    const script = files.find((file) => file.endsWith('/graphiql.js')) ?? '';
    const res = await app.request(script);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(await res.text()).toContain('renderYogaGraphiQL');

    const again = await app.request(script, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const zipped = await app.request(script, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toContain('accept-encoding');
  });

  it('runs Monaco’s workers from its own files', async () => {
    const files = filesOf(await (await page()).text());
    const init = await (await app.request(files.find((f) => f.endsWith('/init.js')) ?? '')).text();
    const workers = [...init.matchAll(/"(\/graphql\/assets\/[^"]+\.worker\.js)"/g)].map(
      (match) => match[1] ?? '',
    );
    expect(workers).toHaveLength(3);
    for (const worker of [...files, ...workers]) {
      expect((await app.request(worker)).status, worker).toBe(200);
    }
  });

  it('answers an unknown file or version 404 problem+json', async () => {
    for (const path of ['/graphql/assets/0.0.0/graphiql.js', '/graphql/assets/5.24.1/nope.js']) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});

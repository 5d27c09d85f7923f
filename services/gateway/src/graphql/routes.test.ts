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

function gatewayWith(invoke: Invoke) {
  const calls: Call[] = [];
  const app = createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 200,
      TRUSTED_PROXY_HOPS: 0,
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
) {
  const res = await app.request('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': 'r-1',
      authorization: `Bearer ${accessToken}`,
      ...headers,
    },
    body: JSON.stringify({ query }),
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

describe('GraphQL limits', () => {
  it('refuses a query nested too deep before calling any service', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const { body } = await graphql(
      app,
      '{ __type(name: "Order") { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }',
    );
    expect(body.errors?.[0]).toMatchObject({
      message: 'Query depth limit of 7 exceeded, found 8.',
      extensions: { code: 'bad_request', limit: 'depth', requestId: 'r-1' },
    });
    expect(calls).toEqual([]);
  });

  it('refuses a query that costs too much before calling any service', async () => {
    const { app, calls } = gatewayWith(async () => new Response('{}'));
    const fields = Array.from(
      { length: 30 },
      (_, i) => `o${i}: myOrders(first: 100) { items { id items { product { id name } } } }`,
    );
    const { body } = await graphql(app, `{ ${fields.join(' ')} }`);
    expect(body.errors?.[0]?.message).toMatch(/^Query Cost limit of 5000 exceeded, found \d+/);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'bad_request', limit: 'cost' });
    expect(calls).toEqual([]);
  });
});

describe('GraphiQL', () => {
  it('is served at GET /graphql with its scripts inlined, nothing from a CDN', async () => {
    const { app } = gatewayWith(async () => new Response('{}'));
    const res = await app.request('/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('renderYogaGraphiQL');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/);
    expect(html).not.toContain('unpkg.com');
  });
});

import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pollUntil } from '@shop/devkit/process';
import { createTestTokens, readEventStream, recordingLogger } from '@shop/devkit/testing';
import { createLogger } from '@shop/platform';
import { describe, expect, it, vi } from 'vitest';
import { createApp, type GatewayDeps } from '../app.ts';

const logger = createLogger({ service: 'gateway', write: () => {} });
type Invoke = (appId: string, path: string, init: RequestInit) => Promise<Response>;

const tokens = await createTestTokens();
const accessToken = await tokens.issue('u-1');

function gatewayWith(
  invoke: Invoke,
  options: Partial<Pick<GatewayDeps, 'logger' | 'verifier'>> & { timeoutMs?: number } = {},
) {
  return createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: options.timeoutMs ?? 200,
      TRUSTED_PROXY_HOPS: 0,
    },
    logger: options.logger ?? logger,
    sidecar: { invoke, ready: async () => {} },
    verifier: options.verifier ?? tokens.verifier,
  });
}

const authorized = { headers: { authorization: `Bearer ${accessToken}` } };

/** A gateway for requests it must refuse itself; `calls` lists any that reached a service. */
function gatewayNeverCalled() {
  const calls: string[] = [];
  const app = gatewayWith(async (appId, path) => {
    calls.push(`${appId} ${path}`);
    return new Response();
  });
  return { app, calls };
}

describe('gateway proxy', () => {
  it('forwards to the owning app with the request id, trace and allowed headers only', async () => {
    const calls: Array<{ appId: string; path: string; headers: Headers; body: string }> = [];
    const app = gatewayWith(async (appId, path, init) => {
      calls.push({
        appId,
        path,
        headers: new Headers(init.headers),
        body: new TextDecoder().decode(init.body as ArrayBuffer),
      });
      return new Response('{"id":"u1"}', {
        status: 201,
        headers: {
          'content-type': 'application/json',
          'set-cookie': 'x=1',
          etag: '"v1"',
          'idempotent-replayed': 'true',
        },
      });
    });
    const res = await app.request('/api/v1/auth/register?x=1', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-42',
        cookie: 'session=secret',
        'dapr-api-token': 'forged',
        'dapr-caller-app-id': 'gateway',
      },
      body: '{"email":"a@b.c"}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const [call] = calls;
    expect(call).toMatchObject({
      appId: 'users',
      path: '/api/v1/auth/register?x=1',
      body: '{"email":"a@b.c"}',
    });
    expect(call?.headers.get('x-request-id')).toBe('req-42');
    expect(call?.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(call?.headers.get('cookie')).toBeNull();
    expect(call?.headers.get('dapr-api-token')).toBeNull();
    expect(call?.headers.get('dapr-caller-app-id')).toBeNull();
  });

  it.each([
    [
      '/api/v1/auth/register',
      { method: 'POST', body: '{}' },
      { type: 'urn:shop:problem:conflict', status: 409, title: 'Conflict', detail: 'taken' },
    ],
    // A service's own 500 is a bug it logs, not the service being unavailable.
    [
      '/api/v1/products',
      {},
      {
        type: 'urn:shop:problem:internal',
        status: 500,
        title: 'Internal server error',
        detail: 'an unexpected error occurred',
        requestId: 'r-500',
      },
    ],
  ])('passes a service’s own problem+json on %s through as it is', async (path, init, problem) => {
    const app = gatewayWith(async () =>
      Response.json(problem, {
        status: problem.status,
        headers: { 'content-type': 'application/problem+json' },
      }),
    );
    const res = await app.request(path, init);
    expect(res.status).toBe(problem.status);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual(problem);
  });
});

describe('gateway proxy and tokens', () => {
  it('forwards a valid token for the service to verify again', async () => {
    let forwarded: string | null = null;
    const app = gatewayWith(async (_appId, _path, init) => {
      forwarded = new Headers(init.headers).get('authorization');
      return Response.json({ id: 'u-1' });
    });
    expect((await app.request('/api/v1/users/me', authorized)).status).toBe(200);
    expect(forwarded).toBe(`Bearer ${accessToken}`);
  });

  it('forwards only Bearer credentials, never one that names another Dapr app', async () => {
    const seen: Array<string | null> = [];
    const app = gatewayWith(async (_appId, _path, init) => {
      seen.push(new Headers(init.headers).get('authorization'));
      return Response.json({});
    });
    const basic = `Basic ${Buffer.from('dapr-app-id:notifications').toString('base64')}`;
    await app.request('/api/v1/auth/login', { method: 'POST', headers: { authorization: basic } });
    await app.request('/api/v1/auth/login', { method: 'POST', headers: authorized.headers });
    expect(seen).toEqual([null, `Bearer ${accessToken}`]);
  });

  it('verifies a token once per request, on a prefix and below it', async () => {
    let verifications = 0;
    const app = gatewayWith(async () => new Response(null, { status: 204 }), {
      verifier: {
        verify: (token) => {
          verifications++;
          return tokens.verifier.verify(token);
        },
      },
    });
    expect((await app.request('/api/v1/notifications', authorized)).status).toBe(204);
    expect(verifications).toBe(1);
    expect((await app.request('/api/v1/notifications/n-1/read', authorized)).status).toBe(204);
    expect(verifications).toBe(2);
  });

  it.each([
    ['/api/v1/products', 'catalog'],
    ['/api/v1/products/p-1', 'catalog'],
    ['/api/v1/categories', 'catalog'],
    ['/api/v1/wishlist/p-1', 'catalog'],
    ['/api/v1/products/p-1/stock', 'inventory'],
    ['/api/v1/orders/o-1/timeline', 'orders'],
    ['/api/v1/admin/orders', 'orders'],
    ['/api/v1/admin/payments', 'payments'],
  ])('routes %s to %s', async (path, appId) => {
    const invoked: string[] = [];
    const app = gatewayWith(async (target) => {
      invoked.push(target);
      return new Response(null, { status: 204 });
    });
    expect((await app.request(path, authorized)).status).toBe(204);
    expect(invoked).toEqual([appId]);
  });
});

describe('gateway proxy when a call fails', () => {
  it('does not take a client that went away for a failing service', async () => {
    const logger = recordingLogger();
    const client = new AbortController();
    const app = gatewayWith(
      (_appId, _path, init) =>
        new Promise((_, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
          client.abort();
        }),
      { logger, timeoutMs: 5_000 },
    );
    const res = await app.request('/api/v1/products', { signal: client.signal });
    expect(res.status).toBe(499);
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        msg: 'client went away before the upstream answered',
        appId: 'catalog',
      }),
    );
  });

  it('logs a client that hangs up on a real socket as gone, not as a failed service', async () => {
    const logger = recordingLogger();
    let called: () => void = () => {};
    const invoked = new Promise<void>((resolve) => {
      called = resolve;
    });
    const app = gatewayWith(
      (_appId, _path, init) =>
        new Promise((_, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
          called();
        }),
      { logger, timeoutMs: 5_000 },
    );
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const client = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/auth/login',
      });
      client.on('error', () => {});
      client.end('{}');
      await invoked;
      client.destroy();
      await pollUntil(() => logger.lines.find((line) => line.msg === 'request'), {
        what: 'the access log line of the request',
        timeoutMs: 5_000,
        intervalMs: 20,
      });
    } finally {
      server.close();
    }
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ msg: 'request', status: 499 }));
  });
});

describe('gateway proxy when the service cannot answer', () => {
  it('answers 503 problem+json when the sidecar cannot be reached', async () => {
    const app = gatewayWith(async () => {
      throw new TypeError('fetch failed');
    });
    const res = await app.request('/api/v1/users/me', authorized);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('answers 503 when Dapr itself reports the callee unreachable', async () => {
    const app = gatewayWith(async () =>
      Response.json(
        { errorCode: 'ERR_DIRECT_INVOKE', message: 'connection refused' },
        { status: 500 },
      ),
    );
    const res = await app.request('/api/v1/users/me', authorized);
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain('ERR_DIRECT_INVOKE');
  });

  it('answers 504 upstream_timeout instead of hanging when the callee does not answer in time', async () => {
    const app = gatewayWith(
      (_appId, _path, init) =>
        new Promise((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    );
    const started = Date.now();
    const res = await app.request('/api/v1/users/me', authorized);
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      type: 'urn:shop:problem:upstream-timeout',
      status: 504,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('gateway proxy refusals', () => {
  it.each([
    ['414', `/api/v1/products?q=${'x'.repeat(9_000)}`, {}, 414],
    ['431', '/api/v1/products', { headers: { 'user-agent': 'y'.repeat(9_000) } }, 431],
    // A Latin-1 byte that is not UTF-8 fails daprd's gRPC hop with a 500 of its own.
    ['400', '/api/v1/products/p-1', { headers: { 'if-none-match': 't=R\u00ff.' } }, 400],
  ])(
    'answers %s problem+json for a head the sidecars would refuse, without calling Dapr',
    async (_, path, init, status) => {
      const { app, calls } = gatewayNeverCalled();
      const res = await app.request(path, init);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(calls).toEqual([]);
    },
  );

  it('answers 404 problem+json for a path no service owns, without calling Dapr', async () => {
    const { app, calls } = gatewayNeverCalled();
    const res = await app.request('/api/v1/unknown');
    expect(res.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('refuses a missing or bad token on a protected path without calling the service', async () => {
    const { app, calls } = gatewayNeverCalled();
    const missing = await app.request('/api/v1/users/me');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="shop"');
    const tampered = await app.request('/api/v1/notifications', {
      headers: { authorization: `Bearer ${accessToken.slice(0, -2)}xx` },
    });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(calls).toEqual([]);
  });
});

describe('gateway proxy paths', () => {
  it.each([
    '/api/v1/auth/..%2F..%2F..%2Fevents%2Fuser.registered',
    '/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/admin/dead-letters',
    '/api/v1/auth/..%5C..%5Cadmin',
    '/api/v1/auth/../../../admin/dead-letters',
    '/api/v1/notifications/%252e%252e/%252e%252e/%252e%252e/admin/dead-letters',
    '/api/v1/auth/%252E%252E%252F%252E%252E%252Fevents',
    '/api/v1/auth/x%00y',
    '/api/v1/auth/x%3Fy',
    '/api/v1/auth/x%0d%0ay',
  ])('never forwards a path that could climb out of its prefix: %s', async (path) => {
    const { app, calls } = gatewayNeverCalled();
    const res = await app.request(path, { method: 'POST', body: '{}' });
    // 404 when the path stays encoded, 401 when URL parsing already resolved it to a
    // Dapr-only path; never a call to the service.
    expect([401, 404]).toContain(res.status);
    expect(calls).toEqual([]);
  });

  it('checks the path after the token, so a logged-in caller cannot climb out either', async () => {
    const { app, calls } = gatewayNeverCalled();
    const res = await app.request(
      '/api/v1/notifications/%252e%252e/%252e%252e/admin/dead-letters',
      authorized,
    );
    expect(res.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('keeps Dapr-only paths behind the app token', async () => {
    const res = await gatewayWith(async () => new Response()).request('/events/user.registered', {
      method: 'POST',
    });
    expect(res.status).toBe(401);
  });

  it('serves its own OpenAPI document only with the app token, and forwards no /internal/ path', async () => {
    const invoked: string[] = [];
    const app = gatewayWith(async (appId, path) => {
      invoked.push(`${appId}${path}`);
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    });
    expect((await app.request('/internal/openapi.json')).status).toBe(401);
    expect((await app.request('/internal/anything')).status).toBe(401);
    const res = await app.request('/internal/openapi.json', {
      headers: { 'dapr-api-token': 'gateway-app-token-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'shop gateway' } });
    expect(invoked).toEqual([]);
  });

  it('serves products to anyone, but a product’s stock and a wishlist only with a valid token', async () => {
    const app = gatewayWith(async () => new Response(null, { status: 204 }));
    expect((await app.request('/api/v1/products/p-1')).status).toBe(204);
    expect((await app.request('/api/v1/products/p-1/stock')).status).toBe(401);
    expect((await app.request('/api/v1/wishlist')).status).toBe(401);
    const forged = { headers: { authorization: 'Bearer not-a-token' } };
    expect((await app.request('/api/v1/products/p-1', forged)).status).toBe(401);
  });
});

describe('gateway proxy with an event stream', () => {
  /** An upstream event stream that sends `first`, and `second` after `gapMs`, until aborted. */
  function eventStreamUpstream(seen: { signal?: AbortSignal; headers?: Headers }, gapMs: number) {
    return async (_appId: string, _path: string, init: RequestInit) => {
      seen.signal = init.signal ?? undefined;
      seen.headers = new Headers(init.headers);
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('id: 1\nevent: notification\ndata: {}\n\n'));
          const later = setTimeout(
            () => controller.enqueue(encoder.encode('id: 2\nevent: notification\ndata: {}\n\n')),
            gapMs,
          );
          init.signal?.addEventListener('abort', () => {
            clearTimeout(later);
            controller.error(init.signal?.reason);
          });
        },
      });
      return new Response(body, {
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      });
    };
  }

  it('passes Last-Event-ID on and keeps the stream open past the upstream timeout', async () => {
    // The gateway's upstream timeout and the stream's second event on one hand-driven clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const seen: { signal?: AbortSignal; headers?: Headers } = {};
      const app = gatewayWith(eventStreamUpstream(seen, 600));
      const res = await app.request('/api/v1/notifications/stream', {
        headers: { ...authorized.headers, 'last-event-id': '7', accept: 'text/event-stream' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(seen.headers?.get('last-event-id')).toBe('7');
      const stream = readEventStream(res);
      expect((await stream.nextEvent()).id).toBe('1');
      // Past the 200 ms UPSTREAM_TIMEOUT_MS, which bounds every other exchange.
      await vi.advanceTimersByTimeAsync(600);
      expect(seen.signal?.aborted).toBe(false);
      expect((await stream.nextEvent()).id).toBe('2');
      await stream.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends the upstream stream when the client goes away', async () => {
    const seen: { signal?: AbortSignal } = {};
    const app = gatewayWith(eventStreamUpstream(seen, 60_000));
    const client = new AbortController();
    const res = await app.request('/api/v1/notifications/stream', {
      ...authorized,
      signal: client.signal,
    });
    const stream = readEventStream(res);
    expect((await stream.nextEvent()).id).toBe('1');
    client.abort();
    expect(seen.signal?.aborted).toBe(true);
  });

  it('still times out an upstream that sends no headers', async () => {
    const app = gatewayWith(
      (_appId, _path, init) =>
        new Promise((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    );
    const res = await app.request('/api/v1/notifications/stream', authorized);
    expect(res.status).toBe(504);
  });
});

import { createTestTokens } from '@shop/devkit/testing';
import { createLogger } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';

const logger = createLogger({ service: 'gateway', write: () => {} });
const tokens = await createTestTokens();
const allowed = 'https://shop.example';

const received: string[] = [];
const app = createApp({
  config: {
    APP_API_TOKEN: 'gateway-app-token-0123456789',
    UPSTREAM_TIMEOUT_MS: 500,
    TRUSTED_PROXY_HOPS: 0,
    CORS_ORIGINS: [allowed, 'http://localhost:5173'],
  },
  logger,
  sidecar: {
    async invoke(_appId, path, init) {
      received.push(path);
      const body = init.body ? new TextDecoder().decode(init.body as ArrayBuffer) : '';
      return Response.json({ bytes: body.length }, { status: 201 });
    },
    ready: async () => {},
  },
  verifier: tokens.verifier,
});

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-resource-policy': 'same-origin',
};

function expectEdgeHeaders(res: Response) {
  for (const [name, value] of Object.entries(securityHeaders)) {
    expect(res.headers.get(name), name).toBe(value);
  }
  expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(res.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
}

const body = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });

describe('gateway edges', () => {
  it('puts security headers and request and trace ids on answers, refusals and errors alike', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const forwarded = await app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': 'r-1' },
      body: '{}',
    });
    expect(forwarded.status).toBe(201);
    expectEdgeHeaders(forwarded);
    expect(forwarded.headers.get('x-trace-id')).toBe(traceId);
    expect(forwarded.headers.get('x-request-id')).toBe('r-1');
    for (const path of [
      '/api/v1/nowhere',
      '/api/v1/users/me',
      '/internal/openapi.json',
      '/openapi.json',
    ]) {
      const res = await app.request(path);
      expectEdgeHeaders(res);
    }
    expect((await app.request('/internal/openapi.json')).status).toBe(401);
  });

  it('lets the pages run scripts of this origin only, never inline ones', async () => {
    const page = await app.request('/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    const worker = await app.request('/graphql/assets/any/graphql.worker.js');
    expect(worker.headers.get('content-security-policy')).toBe(csp);
    const docs = await app.request('/docs');
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self';");
    const api = await app.request('/graphql', { method: 'POST', body: '{}' });
    expect(api.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('answers CORS for the configured origins only', async () => {
    const preflight = await app.request('/api/v1/orders', {
      method: 'OPTIONS',
      headers: {
        origin: allowed,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expectEdgeHeaders(preflight);

    const simple = await app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { origin: allowed },
      body: '{}',
    });
    expect(simple.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(simple.headers.get('access-control-expose-headers')).toContain('x-request-id');

    const other = await app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: '{}',
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const otherPreflight = await app.request('/api/v1/orders', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('gateway body limits', () => {
  it('limits request bodies per route with 413 problem+json, before any service is called', async () => {
    const cases = [
      { path: '/api/v1/auth/register', limit: 16 * 1024 },
      { path: '/api/v1/orders', limit: 16 * 1024 },
      { path: '/api/v1/products', limit: 64 * 1024 },
      { path: '/api/v1/notifications/preferences', limit: 1024 * 1024 },
    ];
    const token = await tokens.issue('u-1', 'admin');
    for (const { path, limit } of cases) {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      received.length = 0;
      const fits = await app.request(path, { method: 'POST', headers, body: body(limit) });
      expect(fits.status, `${path} at its limit`).toBe(201);
      const over = await app.request(path, { method: 'POST', headers, body: body(limit + 1) });
      expect(over.status, `${path} over its limit`).toBe(413);
      expect(over.headers.get('content-type')).toBe('application/problem+json');
      expect(await over.json()).toMatchObject({ type: 'urn:shop:problem:payload-too-large' });
      expect(received).toEqual([path]);
      expectEdgeHeaders(over);
    }
  });

  it('limits a chunked body without a Content-Length as it is read', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(8 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 4) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await app.request('/api/v1/auth/login', {
      method: 'POST',
      body: stream,
      // @ts-expect-error Node's fetch needs duplex for a streamed body
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });
});

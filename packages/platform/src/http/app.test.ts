import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { AppError, type Problem } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createRouter, createServiceApp, type ReadinessChecks } from './app.ts';
import { metricsText } from './metrics.ts';
import { bearerSecurity, openApiDocumentPath, problemResponses } from './openapi.ts';

const appApiToken = 'test-app-token-0123456789';
const lines: string[] = [];
const logger = createLogger({ service: 'test', write: (line) => void lines.push(line) });

function buildApp(readiness: ReadinessChecks = {}) {
  const app = createServiceApp({ service: 'test', logger, appApiToken, readiness });
  const body = z.object({ name: z.string().min(1), count: z.number().int() });
  const route = createRoute({
    method: 'post',
    path: '/things',
    request: { body: { content: { 'application/json': { schema: body } } } },
    responses: { 201: { description: 'created' } },
  });
  app.route(
    '/',
    createRouter()
      .openapi(route, (c) => c.json(c.req.valid('json'), 201))
      .get('/boom', () => {
        throw new Error('database password is hunter2');
      })
      .get('/gone', () => {
        throw new AppError('not_found', 'no such thing');
      }),
  );
  return app;
}

const withToken = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { 'dapr-api-token': appApiToken, 'content-type': 'application/json', ...init.headers },
});

describe('createServiceApp: app token, probes, request ids and logs', () => {
  it('refuses a call without the Dapr app token, as problem+json', async () => {
    const res = await buildApp().request('/gone');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 401,
      type: 'urn:shop:problem:unauthenticated',
    });
  });

  it('refuses a wrong app token of the same length', async () => {
    const res = await buildApp().request('/gone', {
      headers: { 'dapr-api-token': appApiToken.replace('t', 'x') },
    });
    expect(res.status).toBe(401);
  });

  it('answers probes without a token', async () => {
    const app = buildApp();
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(await metricsText(app)).toContain('http_requests_total{method="GET",route="/readyz"');
  });

  it('never serves its metrics on the app port, which may be public', async () => {
    const app = createServiceApp({
      service: 'test',
      logger,
      appApiToken,
      isPublicPath: () => true,
    });
    const res = await app.request('/metrics');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await buildApp().request('/metrics', withToken())).status).toBe(404);
  });

  it('echoes a well-formed request id and replaces a hostile one', async () => {
    const app = buildApp();
    const kept = await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await app.request('/healthz', {
      headers: { 'x-request-id': 'a b"<script>{}' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs each request as JSON with its request and trace id', async () => {
    lines.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await buildApp().request(
      '/gone',
      withToken({
        headers: { 'x-request-id': 'req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      }),
    );
    const entry = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
    expect(entry).toMatchObject({ requestId: 'req-1', traceId, status: 404, path: '/gone' });
  });
});

describe('createServiceApp: errors and readiness', () => {
  it('turns validation failures into one 400 shape listing every field', async () => {
    const res = await buildApp().request(
      '/things',
      withToken({ method: 'POST', body: '{"count":1.5}' }),
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.type).toBe('urn:shop:problem:validation-failed');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['count', 'name']);
  });

  it('answers malformed JSON with 400 problem+json', async () => {
    const res = await buildApp().request(
      '/things',
      withToken({ method: 'POST', body: '{"name":' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers an oversized body with 413', async () => {
    const res = await buildApp().request(
      '/things',
      withToken({
        method: 'POST',
        body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), count: 1 }),
      }),
    );
    expect(res.status).toBe(413);
  });

  it('hides the detail of an unexpected error and logs it once', async () => {
    lines.length = 0;
    const res = await buildApp().request('/boom', withToken());
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text).requestId).toBe(res.headers.get('x-request-id'));
    expect(lines.filter((l) => l.includes('unhandled error'))).toHaveLength(1);
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await buildApp().request('/nowhere', withToken());
    expect(res.status).toBe(404);
    expect(((await res.json()) as Problem).detail).toContain('/nowhere');
  });

  it('reports not ready, naming the failed dependency, and not ready while shutting down', async () => {
    const app = buildApp({
      sidecar: async () => {
        throw new Error('connection refused');
      },
      database: async () => undefined,
    });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    const detail = ((await res.json()) as Problem).detail;
    expect(detail).toBe('not ready: sidecar');
    expect(
      lines.some((l) => l.includes('connection refused') && l.includes('"dependency":"sidecar"')),
    ).toBe(true);

    const healthy = buildApp({ database: async () => undefined });
    healthy.markShuttingDown();
    expect((await healthy.request('/readyz')).status).toBe(503);
  });
});

type Document = {
  components: {
    schemas: Record<string, { required?: string[] }>;
    securitySchemes: Record<string, object>;
  };
  paths: Record<
    string,
    Record<string, { security?: unknown; responses: Record<string, Record<string, unknown>> }>
  >;
};

describe('the OpenAPI document and the public API', () => {
  const item = z.object({ id: z.string() }).openapi('Item');
  const getItem = createRoute({
    method: 'get',
    path: '/{id}',
    security: bearerSecurity,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: { description: 'the item', content: { 'application/json': { schema: item } } },
      ...problemResponses(404, 429),
    },
  });

  function itemsApp(
    publicApiCallers?: string[],
    publicRouteCallers?: Record<string, readonly string[]>,
  ) {
    const app = createServiceApp({
      service: 'items',
      logger,
      appApiToken,
      ...(publicApiCallers ? { publicApiCallers } : {}),
      ...(publicRouteCallers ? { publicRouteCallers } : {}),
    });
    const items = createRouter().openapi(getItem, (c) =>
      c.json({ id: c.req.valid('param').id }, 200),
    );
    app.route('/api/v1/items', items);
    app.get('/internal/ping', (c) => c.text('pong'));
    return app;
  }

  it('serves the document of routes in mounted sub-apps, only with the app token', async () => {
    const app = itemsApp();
    expect((await app.request(openApiDocumentPath)).status).toBe(401);
    const res = await app.request(openApiDocumentPath, withToken());
    expect(res.status).toBe(200);
    const document = (await res.json()) as Document;
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'shop items' } });
    expect(document.components.securitySchemes.bearer).toMatchObject({ scheme: 'bearer' });
    const operation = document.paths['/api/v1/items/{id}']?.get;
    expect(operation?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(operation?.responses ?? {})).toEqual(['200', '404', '429', '500']);
  });

  it('declares each problem as problem+json of one schema, 429 with its headers', async () => {
    const res = await itemsApp().request(openApiDocumentPath, withToken());
    const document = (await res.json()) as Document;
    const responses = document.paths['/api/v1/items/{id}']?.get?.responses;
    expect(responses?.['404']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect(document.components.schemas.Problem?.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
    ]);
    expect(responses?.['429']?.headers).toMatchObject({
      'Retry-After': { required: true },
      'RateLimit-Policy': { required: true },
      RateLimit: { required: true },
    });
  });

  it('lets only the named apps call the public API, and leaves other paths alone', async () => {
    const app = itemsApp(['gateway']);
    const from = (caller: string, path: string) =>
      app.request(path, withToken({ headers: { 'dapr-caller-app-id': caller } }));
    const refused = await from('orders', '/api/v1/items/1');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect((await app.request('/api/v1/items/1', withToken())).status).toBe(403);
    expect((await from('gateway', '/api/v1/items/1')).status).toBe(200);
    expect((await from('orders', '/internal/ping')).status).toBe(200);
  });

  it('lets an app named for one route call that route alone', async () => {
    const app = itemsApp(['gateway'], { 'GET /api/v1/items/1': ['cart'] });
    const from = (caller: string, path: string) =>
      app.request(path, withToken({ headers: { 'dapr-caller-app-id': caller } }));
    expect((await from('cart', '/api/v1/items/1')).status).toBe(200);
    expect((await from('cart', '/api/v1/items/2')).status).toBe(403);
    expect((await from('orders', '/api/v1/items/1')).status).toBe(403);
    expect((await from('gateway', '/api/v1/items/2')).status).toBe(200);
  });
});

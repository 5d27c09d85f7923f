import { createRoute, z } from '@hono/zod-openapi';
import {
  AppError,
  bearerSecurity,
  createLogger,
  createRouter,
  createServiceApp,
  openApiDocumentPath,
  problemResponses,
} from '@shop/platform';
import { describe, expect, it } from 'vitest';
import {
  type OpenApiDocument,
  openApiResponseChecker,
  responseMismatches,
  undocumentedRoutes,
} from './openapi-conformance.ts';
import { viaSidecar } from './via-sidecar.ts';

const appApiToken = 'conformance-app-token-0123';
const thing = z.object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() });

const getThing = createRoute({
  method: 'get',
  path: '/{id}',
  security: bearerSecurity,
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'the thing', content: { 'application/json': { schema: thing } } },
    ...problemResponses(404, 429),
  },
});

const countThings = createRoute({
  method: 'get',
  path: '/count',
  responses: {
    200: {
      description: 'how many',
      content: { 'application/json': { schema: z.object({ count: z.number().int() }) } },
    },
    ...problemResponses(),
  },
});

/** A real service app whose handlers answer whatever a test tells them to. */
function thingsApp() {
  const app = createServiceApp({
    service: 'things',
    logger: createLogger({ service: 'things', write: () => {} }),
    appApiToken,
  });
  const things = createRouter()
    .openapi(countThings, (c) => c.json({ count: 2 }, 200))
    .openapi(getThing, (c) => {
      const id = c.req.valid('param').id;
      if (id === 'missing') throw new AppError('not_found', 'no such thing');
      if (id === 'busy') throw new AppError('rate_limited', 'slow down');
      if (id === 'conflict') throw new AppError('conflict', 'undeclared');
      // Breaks its schema: the id is no uuid and createdAt is missing.
      if (id === 'broken') return c.json({ id, name: 'x' } as never, 200);
      return c.json({ id, name: 'a thing', createdAt: new Date().toISOString() }, 200);
    });
  app.route('/api/v1/things', things);
  app.get('/api/v1/undocumented', (c) => c.json({}));
  return app;
}

const app = thingsApp();
const call = viaSidecar(app, appApiToken);
const document = (await (await call(openApiDocumentPath)).json()) as OpenApiDocument;

async function mismatchesOf(path: string) {
  const res = await call(path);
  return responseMismatches(document, {
    method: 'GET',
    path,
    status: res.status,
    headers: res.headers,
    body: await res.text(),
  });
}

describe('responseMismatches', () => {
  it('accepts answers that match their declared status, content type and schema', async () => {
    const id = crypto.randomUUID();
    expect(await mismatchesOf(`/api/v1/things/${id}`)).toEqual([]);
    expect(await mismatchesOf('/api/v1/things/missing')).toEqual([]);
    expect(await mismatchesOf('/api/v1/things/count?x=1')).toEqual([]);
  });

  it('names each way a body breaks its schema', async () => {
    const mismatches = await mismatchesOf('/api/v1/things/broken');
    expect(mismatches.join('\n')).toMatch(/createdAt/);
    expect(mismatches.join('\n')).toMatch(/\/id must match format "uuid"/);
  });

  it('refuses an undeclared status, and a declared one missing its required headers', async () => {
    expect(await mismatchesOf('/api/v1/things/conflict')).toEqual([
      expect.stringContaining('status 409 is not declared'),
    ]);
    expect(await mismatchesOf('/api/v1/things/busy')).toEqual([
      'header Retry-After is declared required but absent',
      'header RateLimit-Policy is declared required but absent',
      'header RateLimit is declared required but absent',
    ]);
  });

  it('refuses a content type or body other than the declared one', () => {
    const observed = { method: 'GET', path: '/api/v1/things/count', status: 200 };
    expect(
      responseMismatches(document, {
        ...observed,
        headers: new Headers({ 'content-type': 'text/plain' }),
        body: '2',
      }),
    ).toEqual(['content type text/plain is not one of application/json']);
    expect(
      responseMismatches(document, {
        ...observed,
        headers: new Headers({ 'content-type': 'application/json' }),
        body: '{"count":"two"}',
      }),
    ).toEqual(['body: /count must be integer']);
  });

  it('refuses a public path the document lacks, and leaves the undocumented rest alone', async () => {
    expect(await mismatchesOf('/api/v1/undocumented')).toEqual([
      'GET /api/v1/undocumented is not in the document',
    ]);
    expect(await mismatchesOf('/healthz')).toEqual([]);
  });

  it('accepts 404 problem+json for a public path or method the document lacks', () => {
    const unknown = {
      method: 'POST',
      path: '/api/v1/auth/..%2F..%2Fadmin%2Fdead-letters',
      status: 404,
      headers: new Headers({ 'content-type': 'application/problem+json' }),
      body: '{}',
    };
    expect(responseMismatches(document, unknown)).toEqual([]);
    expect(responseMismatches(document, { ...unknown, status: 200 })).toEqual([
      'POST /api/v1/auth/..%2F..%2Fadmin%2Fdead-letters is not in the document',
    ]);
  });
});

describe('openApiResponseChecker', () => {
  const conforming = openApiResponseChecker(async () => (await call(openApiDocumentPath)).json());

  it('hands a conforming answer back unread, and throws for one that breaks the document', async () => {
    const res = await conforming(
      'GET',
      '/api/v1/things/missing',
      await call('/api/v1/things/missing'),
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toBe('no such thing');
    await expect(
      conforming('GET', '/api/v1/things/broken', await call('/api/v1/things/broken')),
    ).rejects.toThrow(/GET \/api\/v1\/things\/broken → 200 breaks the OpenAPI document/);
  });

  it('refuses a document that is not OpenAPI 3.1', async () => {
    const check = openApiResponseChecker(async () => ({ openapi: '3.0.3', paths: {} }));
    await expect(check('GET', '/healthz', await call('/healthz'))).rejects.toThrow(/3\.1/);
  });
});

describe('undocumentedRoutes', () => {
  it('names public routes missing from the document or documented without errors', () => {
    const bare = structuredClone(document);
    const count = bare.paths?.['/api/v1/things/count']?.get;
    if (count) count.responses = { 200: { description: 'how many' } };
    expect(undocumentedRoutes(app.routes, bare)).toEqual([
      'GET /api/v1/things/count declares no error response',
      'GET /api/v1/undocumented is not in the document',
    ]);
  });
});

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestTokens } from '@shop/devkit/testing';
import {
  bearerScheme,
  bearerSecurity,
  createLogger,
  openApiDocumentPath,
  problemResponses,
} from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';

const tokens = await createTestTokens();
const logs: Array<Record<string, unknown>> = [];
const logger = createLogger({ service: 'gateway', write: (line) => logs.push(JSON.parse(line)) });

// A service's own document, built the way createServiceApp builds it.
function serviceDocument(
  routes: Array<{ method: 'get' | 'post'; path: string; schema: z.ZodType; secured?: boolean }>,
) {
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', bearerScheme);
  for (const route of routes) {
    app.openapi(
      createRoute({
        method: route.method,
        path: route.path,
        summary: `${route.method} ${route.path}`,
        ...(route.secured ? { security: bearerSecurity } : {}),
        ...(route.method === 'post'
          ? { request: { body: { content: { 'application/json': { schema: route.schema } } } } }
          : {}),
        responses: {
          200: { description: 'ok', content: { 'application/json': { schema: route.schema } } },
          ...problemResponses(400, 404),
        },
      }),
      (c) => c.json({}, 200),
    );
  }
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'svc', version: 'v1' } });
}

const catalogProduct = z.object({ id: z.string(), price: z.number().int() }).openapi('Product');
const ordersProduct = z.object({ productId: z.string() }).openapi('Product');
const documents: Record<string, unknown> = {
  users: serviceDocument([
    { method: 'post', path: '/api/v1/auth/login', schema: z.object({ email: z.string() }) },
    {
      method: 'get',
      path: '/.well-known/jwks.json',
      schema: z.object({ keys: z.array(z.unknown()) }),
    },
    {
      method: 'get',
      path: '/internal/users/{id}',
      schema: z.object({ id: z.string() }).openapi('InternalUser'),
    },
  ]),
  catalog: serviceDocument([
    { method: 'get', path: '/api/v1/products/{id}', schema: catalogProduct },
    { method: 'post', path: '/api/v1/products', schema: catalogProduct, secured: true },
    // Not catalog's to publish: the gateway sends a product's stock to inventory.
    { method: 'get', path: '/api/v1/products/{id}/stock', schema: catalogProduct },
  ]),
  orders: serviceDocument([
    {
      method: 'get',
      path: '/api/v1/orders',
      schema: z.object({ items: z.array(ordersProduct) }),
      secured: true,
    },
  ]),
};

type Invoke = (appId: string, path: string, init: RequestInit) => Promise<Response>;

function gatewayWith(
  invoke: Invoke,
  options: { OPENAPI_CACHE_TTL_MS?: number; now?: () => number } = {},
) {
  const { now, ...config } = options;
  return createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 500,
      TRUSTED_PROXY_HOPS: 0,
      ...config,
    },
    logger,
    sidecar: { invoke, ready: async () => {} },
    verifier: tokens.verifier,
    now,
  });
}

const served: Invoke = async (appId, path) => {
  expect(path).toBe(openApiDocumentPath);
  const document = documents[appId];
  return document ? Response.json(document) : new Response('no such app', { status: 500 });
};

type Document = {
  openapi: string;
  info: { description?: string };
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, { tags: string[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

async function mergedDocument(app: ReturnType<typeof gatewayWith>): Promise<Document> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

describe('GET /openapi.json', () => {
  it('merges the public paths each upstream covers into one valid OpenAPI 3.1 document', async () => {
    const document = await mergedDocument(gatewayWith(served));
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/api/v1/auth/login',
      '/api/v1/orders',
      '/api/v1/products',
      '/api/v1/products/{id}',
      '/docs',
      '/openapi.json',
    ]);
    expect(document.paths['/api/v1/orders']?.get?.tags).toEqual(['orders']);
    expect(document.tags.map(({ name }) => name)).toEqual([
      'gateway',
      'catalog',
      'orders',
      'users',
    ]);
    expect(document.components.securitySchemes).toEqual({ bearer: bearerScheme });
  });

  it('renames component schemas that differ between services, and keeps shared ones once', async () => {
    const document = await mergedDocument(gatewayWith(served));
    const schemas = Object.keys(document.components.schemas);
    expect(schemas).toContain('catalog.Product');
    expect(schemas).toContain('orders.Product');
    expect(schemas).not.toContain('Product');
    expect(schemas.filter((name) => name.endsWith('Problem'))).toEqual(['Problem']);
    // Used only by a Dapr-only route, so not published.
    expect(Object.keys((documents.users as Document).components.schemas)).toContain('InternalUser');
    expect(schemas).not.toContain('InternalUser');
    expect(JSON.stringify(document.paths['/api/v1/orders'])).toContain(
      '#/components/schemas/orders.Product',
    );
  });

  it('adds the problems the gateway itself answers to each forwarded operation', async () => {
    const { paths } = await mergedDocument(gatewayWith(served));
    const statuses = (path: string, method: string) =>
      Object.keys(paths[path]?.[method]?.responses ?? {}).sort();
    // Login: no token is checked there, and it takes a body.
    expect(statuses('/api/v1/auth/login', 'post')).toEqual(
      ['200', '400', '404', '413', '429', '500', '503', '504'].sort(),
    );
    expect(statuses('/api/v1/orders', 'get')).toEqual(
      ['200', '400', '401', '404', '429', '500', '503', '504'].sort(),
    );
    expect(statuses('/openapi.json', 'get')).toEqual(['200', '500']);
  });
});

describe('GET /openapi.json while services come and go', () => {
  it('serves the rest when a service is down, logs it, and asks again on the next request', async () => {
    let catalogUp = false;
    const app = gatewayWith(async (appId, path, init) => {
      if (appId === 'catalog' && !catalogUp) throw new TypeError('fetch failed');
      return served(appId, path, init);
    });
    const without = await mergedDocument(app);
    expect(without.paths['/api/v1/products']).toBeUndefined();
    expect(without.paths['/api/v1/orders']).toBeDefined();
    expect(without.info.description).toContain('catalog');
    expect(
      logs.some((l) => l.msg === 'openapi document unavailable' && l.appId === 'catalog'),
    ).toBe(true);
    catalogUp = true;
    const withCatalog = await mergedDocument(app);
    expect(withCatalog.paths['/api/v1/products']).toBeDefined();
  });

  it('asks each service once until the TTL passes, and keeps the last document while a refresh fails', async () => {
    const calls: string[] = [];
    let fail = false;
    let now = 0;
    const app = gatewayWith(
      async (appId, path, init) => {
        calls.push(appId);
        if (fail) throw new TypeError('fetch failed');
        return served(appId, path, init);
      },
      { OPENAPI_CACHE_TTL_MS: 60_000, now: () => now },
    );
    await mergedDocument(app);
    now = 59_999;
    await mergedDocument(app);
    expect(calls.filter((id) => id === 'users')).toHaveLength(1);
    now = 60_000;
    fail = true;
    const stale = await mergedDocument(app);
    expect(calls.filter((id) => id === 'users')).toHaveLength(2);
    expect(stale.paths['/api/v1/auth/login']).toBeDefined();
    await mergedDocument(app);
    expect(calls.filter((id) => id === 'users')).toHaveLength(3);
  });
});

describe('GET /docs', () => {
  it('serves the reference page and every asset it loads from the gateway itself', async () => {
    const app = gatewayWith(served);
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, src]) => src);
    expect(sources).toEqual(['/docs/scalar.js', '/docs/init.js']);
    for (const source of sources) {
      const asset = await app.request(source as string);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    }
    expect(html).not.toMatch(/<script>|<style|https?:\/\//);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
  });
});

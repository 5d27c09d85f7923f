import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createTestTokens, recordingLogger } from '@shop/devkit/testing';
import { openApiDocumentPath } from '@shop/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { serviceRouteMethods } from './methods.ts';

type Invoke = (appId: string, path: string, init: RequestInit) => Promise<Response>;

const tokens = await createTestTokens();
const accessToken = await tokens.issue('u-1');

/** Catalog's document as it declares its paths; the other apps have none to give. */
const catalogDocument = {
  openapi: '3.1.0',
  info: { title: 'catalog', version: '1' },
  paths: {
    '/api/v1/products': { get: {}, post: {} },
    '/api/v1/products/{productId}': { get: {}, patch: {}, parameters: [] },
    '/internal/openapi.json': { get: {} },
  },
};

function catalogAndOthers(forwarded: string[]): Invoke {
  return async (appId, path, init) => {
    if (path === openApiDocumentPath) {
      if (appId === 'catalog') return Response.json(catalogDocument);
      return new Response('no', { status: 500 });
    }
    forwarded.push(`${init.method} ${appId}${path}`);
    return Response.json({ ok: true });
  };
}

function gateway(invoke: Invoke, withDocuments = true) {
  const logger = recordingLogger();
  const sidecar = { invoke, ready: async () => {} };
  const app = createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 500,
      TRUSTED_PROXY_HOPS: 0,
    },
    logger,
    sidecar,
    verifier: tokens.verifier,
    ...(withDocuments && {
      routeMethods: serviceRouteMethods({ sidecar, logger, ttlMs: 60_000, timeoutMs: 500 }),
    }),
  });
  return { app, logger };
}

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Over a real socket: a Request cannot even be made with TRACE in process. */
async function overTheWire(app: { fetch: (request: Request) => Response | Promise<Response> }) {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return (method: string, path: string) =>
    new Promise<{ status: number; allow: string | undefined; type: string; body: string }>(
      (resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              allow: res.headers.allow,
              type: res.headers['content-type'] ?? '',
              body,
            }),
          );
        });
        req.on('error', reject);
        req.end();
      },
    );
}

describe('methods a route does not have', () => {
  it('answers TRACE on a routed path with 405 problem+json and Allow, reaching no service', async () => {
    const forwarded: string[] = [];
    const { app, logger } = gateway(catalogAndOthers(forwarded), false);
    const send = await overTheWire(app);
    for (const path of ['/api/v1/products', '/api/v1/users/me', '/api/v1/orders/o-1']) {
      const res = await send('TRACE', path);
      expect(res.status, path).toBe(405);
      expect(res.type).toBe('application/problem+json');
      expect(res.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      expect(JSON.parse(res.body)).toMatchObject({
        type: 'urn:shop:problem:method-not-allowed',
        status: 405,
      });
    }
    // Refused before the token check: no 401 for a protected path, and nothing forwarded
    // or reported as a service's failure.
    expect(forwarded).toEqual([]);
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect((await send('TRACE', '/api/v1/nowhere')).status).toBe(404);
  });

  it('answers a method a service does not declare for a path with the ones it does', async () => {
    const forwarded: string[] = [];
    const { app } = gateway(catalogAndOthers(forwarded));
    const deleted = await app.request('/api/v1/products', { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    const put = await app.request('/api/v1/products/p-1', { method: 'PUT', body: '{}' });
    expect(put.headers.get('allow')).toBe('GET, HEAD, PATCH, OPTIONS');
    const propfind = await app.request('/api/v1/products/p-1', { method: 'PROPFIND' });
    expect(propfind.status).toBe(405);
    expect(propfind.headers.get('allow')).toBe('GET, HEAD, PATCH, OPTIONS');
    expect(forwarded).toEqual([]);

    for (const [method, path] of [
      ['GET', '/api/v1/products'],
      ['HEAD', '/api/v1/products/p-1'],
      ['PATCH', '/api/v1/products/p-1'],
      // Not in the document: the service decides.
      ['DELETE', '/api/v1/products/p-1/images'],
    ] as const) {
      expect((await app.request(path, { method })).status, `${method} ${path}`).toBe(200);
    }
    expect(forwarded).toEqual([
      'GET catalog/api/v1/products',
      'HEAD catalog/api/v1/products/p-1',
      'PATCH catalog/api/v1/products/p-1',
      'DELETE catalog/api/v1/products/p-1/images',
    ]);
  });

  it('forwards the usual methods where a service gave no document', async () => {
    const forwarded: string[] = [];
    const { app } = gateway(catalogAndOthers(forwarded));
    const res = await app.request('/api/v1/users/me', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(res.status).toBe(200);
    expect(forwarded).toEqual(['DELETE users/api/v1/users/me']);
  });
});

describe('methods of the gateway’s own paths', () => {
  it('answers a method the gateway’s own paths lack with 405 too', async () => {
    const { app } = gateway(catalogAndOthers([]), false);
    for (const [method, path, allow] of [
      ['POST', '/openapi.json', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/docs', 'GET, HEAD, OPTIONS'],
      ['PUT', '/graphql', 'GET, HEAD, POST, OPTIONS'],
    ] as const) {
      const res = await app.request(path, { method, body: '{}' });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
    }
    expect((await app.request('/openapi.json')).status).toBe(200);
  });

  it('answers OPTIONS itself (CORS), whatever the path declares', async () => {
    const forwarded: string[] = [];
    const { app } = gateway(catalogAndOthers(forwarded));
    expect((await app.request('/api/v1/products', { method: 'OPTIONS' })).status).toBe(204);
    expect(forwarded).toEqual([]);
  });
});

describe('serviceRouteMethods', () => {
  function counting(document: () => Response) {
    const asked: string[] = [];
    const invoke: Invoke = async (appId) => {
      asked.push(appId);
      return document();
    };
    return { asked, sidecar: { invoke } };
  }

  it('asks once, then again in the background after the TTL, answering from the old table meanwhile', async () => {
    let now = 0;
    let declared: Record<string, unknown> = { get: {} };
    const { asked, sidecar } = counting(() =>
      Response.json({ ...catalogDocument, paths: { '/api/v1/products': declared } }),
    );
    const methods = serviceRouteMethods({
      sidecar,
      logger: recordingLogger(),
      ttlMs: 1_000,
      timeoutMs: 500,
      now: () => now,
    });
    expect(await methods.allowed('catalog', '/api/v1/products')).toEqual(new Set(['GET', 'HEAD']));
    await methods.allowed('catalog', '/api/v1/products');
    expect(asked).toEqual(['catalog']);

    now = 1_000;
    declared = { get: {}, post: {} };
    expect(await methods.allowed('catalog', '/api/v1/products')).toEqual(new Set(['GET', 'HEAD']));
    expect(asked).toEqual(['catalog', 'catalog']);
    // The refresh runs in the background: the new table answers once it is in.
    await expect
      .poll(() => methods.allowed('catalog', '/api/v1/products'))
      .toEqual(new Set(['GET', 'HEAD', 'POST']));
    expect(asked).toEqual(['catalog', 'catalog']);
  });

  it('does not ask a service that gave no document again for 30 s', async () => {
    let now = 0;
    const { asked, sidecar } = counting(() => new Response('down', { status: 503 }));
    const logger = recordingLogger();
    const methods = serviceRouteMethods({
      sidecar,
      logger,
      ttlMs: 1_000,
      timeoutMs: 500,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) {
      expect(await methods.allowed('orders', '/api/v1/orders')).toBeUndefined();
    }
    expect(asked).toEqual(['orders']);
    now = 30_000;
    await methods.allowed('orders', '/api/v1/orders');
    expect(asked).toEqual(['orders', 'orders']);
    expect(logger.lines.filter((line) => line.msg === 'openapi document unavailable')).toHaveLength(
      2,
    );
  });
});

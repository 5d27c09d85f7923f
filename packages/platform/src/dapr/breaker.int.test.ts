import { type ServerType, serve } from '@hono/node-server';
import { freePorts } from '@shop/devkit/supervisor';
import { silentLogger, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemContentType } from '../errors.ts';
import { createRouter, createServiceApp } from '../http/app.ts';
import { CircuitOpenError } from './breaker.ts';
import { createSidecar, type Sidecar } from './sidecar.ts';

// The breaker's two cases as real daprd delivers them: a callee's own 500 arrives as its
// problem+json (daprd passes the app's status and content type through), and a callee that
// is gone arrives as daprd's own 500 in plain JSON. The probe takes the catalog's app id and
// paths, which the gateway's sidecar is allowed to call.
let shop: TestShop;
let callee: ServerType;
let caller: ServerType;
let gateway: Sidecar;

beforeAll(async () => {
  const [calleePort, gatewayPort] = (await freePorts(2)) as [number, number];
  let appApiToken = 'not-yet-known-0000000000';
  const app = createServiceApp({
    service: 'catalog',
    logger: silentLogger('catalog'),
    get appApiToken() {
      return appApiToken;
    },
  });
  app.route(
    '/',
    createRouter()
      .get('/api/v1/products', () => {
        throw new Error('a bug one request can trigger');
      })
      .get('/api/v1/categories', (c) => c.json({ items: [] })),
  );
  callee = serve({ fetch: app.fetch, port: calleePort, hostname: '127.0.0.1' });
  // daprd waits for its app's port; the calling side needs no routes of its own.
  const callerApp = createServiceApp({
    service: 'gateway',
    logger: silentLogger('gateway'),
    appApiToken: 'unused-app-token-00000000',
  });
  caller = serve({ fetch: callerApp.fetch, port: gatewayPort, hostname: '127.0.0.1' });
  shop = await startTestShop({
    apps: [],
    sidecarsOnly: [
      { appId: 'catalog', appPort: calleePort },
      { appId: 'gateway', appPort: gatewayPort },
    ],
  });
  const [catalogApp, gatewayApp] = [shop.apps.catalog, shop.apps.gateway];
  if (!catalogApp || !gatewayApp) throw new Error('a sidecar is missing');
  appApiToken = catalogApp.appApiToken;
  gateway = createSidecar(
    {
      DAPR_HOST: '127.0.0.1',
      DAPR_HTTP_PORT: gatewayApp.daprHttpPort,
      DAPR_API_TOKEN: gatewayApp.daprApiToken,
    },
    silentLogger('gateway'),
  );
});

afterAll(async () => {
  await shop?.stop();
  callee?.close();
  caller?.close();
});

const call = (path: string) =>
  gateway.invoke('catalog', path, { method: 'GET', signal: AbortSignal.timeout(5_000) }).then(
    (res) => res,
    (error: unknown) => error,
  );

describe('the gateway sidecar calling a service through daprd', () => {
  it("passes the service's own 500 through as problem+json and keeps the circuit closed", async () => {
    for (let i = 0; i < 10; i++) {
      const res = (await call('/api/v1/products')) as Response;
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe(problemContentType);
      await res.body?.cancel();
    }
    expect(((await call('/api/v1/categories')) as Response).status).toBe(200);
  });

  it("opens the circuit on daprd's own 5xx once the service is gone", async () => {
    callee.close();
    if ('closeAllConnections' in callee) callee.closeAllConnections();
    for (let i = 0; i < 5; i++) {
      const outcome = await call('/api/v1/categories');
      if (outcome instanceof Response) {
        expect(outcome.status).toBeGreaterThanOrEqual(500);
        expect(outcome.headers.get('content-type')).not.toBe(problemContentType);
        await outcome.body?.cancel();
      }
    }
    expect(await call('/api/v1/categories')).toBeInstanceOf(CircuitOpenError);
  });
});

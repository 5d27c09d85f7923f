import type { ServerType } from '@hono/node-server';
import { freePorts } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemContentType } from '../errors.ts';
import { createRouter } from '../http/app.ts';
import { CircuitOpenError } from './breaker.ts';
import type { Sidecar } from './sidecar.ts';
import { serveBareApp } from './testdata/bare-app.ts';

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
  const calleeApp = serveBareApp('catalog', calleePort, (app) =>
    app.route(
      '/',
      createRouter()
        .get('/api/v1/products', () => {
          throw new Error('a bug one request can trigger');
        })
        .get('/api/v1/categories', (c) => c.json({ items: [] })),
    ),
  );
  callee = calleeApp.server;
  // The calling side needs no routes of its own.
  const callerApp = serveBareApp('gateway', gatewayPort);
  caller = callerApp.server;
  shop = await startTestShop({
    apps: [],
    sidecarsOnly: [
      { appId: 'catalog', appPort: calleePort },
      { appId: 'gateway', appPort: gatewayPort },
    ],
  });
  // The callee takes its sidecar's app token; the test calls through the gateway's.
  calleeApp.sidecarIn(shop);
  gateway = callerApp.sidecarIn(shop);
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

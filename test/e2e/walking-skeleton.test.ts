import { pollUntil } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let shop: TestShop;

beforeAll(async () => {
  shop = await startTestShop();
});

afterAll(async () => {
  await shop?.stop();
});

const register = (email: string) =>
  shop.gateway('/api/v1/auth/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': `e2e-${email.split('@')[0]}` },
    body: JSON.stringify({ email, password: 'correct horse battery', name: 'E2E' }),
  });

type Inbox = { items: Array<{ type: string; title: string }> };

async function loginAs(email: string): Promise<string> {
  const res = await shop.gateway('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery' }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

describe('walking skeleton through real sidecars', () => {
  it('registers at the gateway; users is reached only through Dapr and sees the caller', async () => {
    const res = await register('walker@example.com');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('e2e-walker');
    // The line travels from users' stdout through the supervisor into its log file.
    const entry = await pollUntil(
      async () =>
        shop
          .log('users')
          .split('\n')
          .filter((line) => line.includes('"path":"/api/v1/auth/register"'))
          .map((line) => JSON.parse(line))
          .find((line) => line.requestId === 'e2e-walker'),
      { what: "the register request in users' log", timeoutMs: 20_000 },
    );
    expect(entry).toMatchObject({ caller: 'gateway', status: 201 });
  });

  it('delivers user.registered to notifications, which keeps a welcome notification', async () => {
    expect((await register('welcome@example.com')).status).toBe(201);
    const token = await loginAs('welcome@example.com');
    const inbox = await pollUntil(
      async () => {
        const res = await shop.gateway('/api/v1/notifications', {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as Inbox;
        return body.items.length > 0 ? body : undefined;
      },
      { what: 'the welcome notification in the inbox', timeoutMs: 20_000 },
    );
    expect(inbox.items).toEqual([
      expect.objectContaining({ type: 'welcome', title: 'Welcome to Shop, E2E' }),
    ]);
  });

  it('carries one trace from the client through users and its outbox to the consumer', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await shop.gateway('/api/v1/auth/register', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      },
      body: JSON.stringify({
        email: 'traced@example.com',
        password: 'correct horse battery',
        name: 'T',
      }),
    });
    expect(res.status).toBe(201);
    const handled = await pollUntil(
      async () =>
        shop
          .log('notifications')
          .split('\n')
          // Registration also asks for the address's confirmation mail, in the same trace.
          .find(
            (line) =>
              line.includes('"msg":"event handled"') &&
              line.includes(traceId) &&
              line.includes('"type":"user.registered"'),
          ),
      { what: 'notifications to log the traced event as handled', timeoutMs: 20_000 },
    );
    expect(JSON.parse(handled)).toMatchObject({
      traceId,
      type: 'user.registered',
      delivery: 'SUCCESS',
    });
  });

  it('lets no public path climb into another route or app through the sidecars', async () => {
    const basic = `Basic ${Buffer.from('dapr-app-id:notifications').toString('base64')}`;
    for (const path of [
      '/api/v1/auth/..%2F..%2F..%2Fadmin%2Fdead-letters',
      '/api/v1/auth/%2e%2e%2f%2e%2e%2f%2e%2e%2fevents%2fuser.registered',
      '/api/v1/auth/%252e%252e/%252e%252e/%252e%252e/admin/dead-letters',
      '/api/v1/auth/%252e%252e/%252e%252e/%252e%252e/metrics',
    ]) {
      const res = await shop.gateway(path, {
        method: 'POST',
        headers: { authorization: basic },
        body: '{}',
      });
      expect(res.status).toBe(404);
    }
  });

  it('refuses a caller that is not the gateway, even through Dapr', async () => {
    const res = await shop.invoke('users', '/api/v1/auth/register', {
      via: 'notifications',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'sneaky@example.com',
        password: 'correct horse battery',
        name: 'X',
      }),
    });
    expect(res.status).toBe(403);
  });

  it('refuses a request that carries no app token, straight to the app', async () => {
    const users = shop.apps.users;
    const direct = await fetch(`http://127.0.0.1:${users?.appPort}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-caller-app-id': 'gateway' },
      body: JSON.stringify({
        email: 'direct@example.com',
        password: 'correct horse battery',
        name: 'X',
      }),
    });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses a call to a sidecar without the Dapr API token', async () => {
    const users = shop.apps.users;
    const res = await fetch(
      `http://127.0.0.1:${users?.daprHttpPort}/v1.0/invoke/users/method/healthz`,
    );
    expect(res.status).toBe(401);
  });

  it('serves health and readiness on every service, and its metrics on its metrics port only', async () => {
    for (const app of Object.values(shop.apps)) {
      const base = `http://127.0.0.1:${app.appPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`);
      expect(await metrics.text()).toContain(`service="${app.appId}"`);
    }
    expect((await shop.gateway('/metrics')).status).toBe(404);
  });

  // Last, because it leaves users without a sidecar.
  it('turns users red and makes the gateway answer 503 quickly when the users sidecar dies', async () => {
    await shop.kill('users-dapr');
    const users = shop.apps.users;
    const ready = await fetch(`http://127.0.0.1:${users?.appPort}/readyz`);
    expect(ready.status).toBe(503);

    const started = Date.now();
    const res = await register('after-crash@example.com');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as Problem).detail).toContain('users');
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

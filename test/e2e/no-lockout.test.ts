import { eventually, startTestShop, type TestShop } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Client errors are answers, not failures: a burst of them from one client must not open
// a circuit that then refuses everyone. A callee that is really down must still fail fast.
let shop: TestShop;
const password = 'correct horse battery';

beforeAll(async () => {
  shop = await startTestShop({ apps: ['gateway', 'users'] });
});

afterAll(async () => {
  await shop?.stop();
});

const post = (path: string, body: unknown) =>
  shop.gateway(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const register = (email: string) =>
  post('/api/v1/auth/register', { email, password, name: 'No Lockout' });

describe('a burst of client errors', () => {
  it('leaves the other clients answered normally', async () => {
    const victim = 'lockout-victim@example.com';
    const bystander = 'lockout-bystander@example.com';
    expect((await register(victim)).status).toBe(201);
    expect((await register(bystander)).status).toBe(201);

    for (let i = 0; i < 20; i++) {
      const res = await post('/api/v1/auth/login', { email: victim, password: `wrong guess ${i}` });
      // 401 while the throttle lets guesses through, then 429: both the client's fault.
      expect([401, 429]).toContain(res.status);
    }
    for (let i = 0; i < 20; i++) {
      const res = await post('/api/v1/auth/register', {
        email: `not-an-email-${i}`,
        password: 'short',
        name: '',
      });
      expect(res.status).toBe(400);
    }

    expect((await post('/api/v1/auth/login', { email: bystander, password })).status).toBe(200);
    expect((await register('lockout-newcomer@example.com')).status).toBe(201);
  });
});

describe('a callee that is down', () => {
  it('fails fast with 503 problem+json, opens its circuit, and recovers after a restart', async () => {
    const account = 'lockout-returning@example.com';
    expect((await register(account)).status).toBe(201);
    await shop.kill('users');

    let last: Problem | undefined;
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const res = await post('/api/v1/auth/login', { email: account, password });
      // An upper bound only, and a generous one: what matters is that nothing hangs.
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      last = (await res.json()) as Problem;
    }
    // Five consecutive failures open the gateway's circuit to users: it no longer calls.
    expect(last?.detail).toMatch(/failed repeatedly/);

    await shop.restart('users');
    const recovered = await eventually(async () => {
      const res = await post('/api/v1/auth/login', { email: account, password });
      return res.status === 503 ? undefined : res.status;
    });
    expect(recovered).toBe(200);
  });
});

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Client errors are answers, not failures: a burst of them from one client must not open
// a circuit that then refuses everyone. A callee that is really down must still fail fast.
// And strangers guessing at an account cannot lock its owner out of a device it uses.
let shop: TestShop;
const password = 'correct horse battery';

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users', 'notifications'],
    appEnv: {
      // Behind one trusted proxy hop, X-Forwarded-For tells the gateway who each client is.
      gateway: { TRUSTED_PROXY_HOPS: '1' },
      notifications: { EMAIL_SEND_INTERVAL_MS: '200' },
    },
  });
});

afterAll(async () => {
  await shop?.stop();
});

const post = (path: string, body: unknown, from?: string) =>
  shop.gateway(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(from === undefined ? {} : { 'x-forwarded-for': from }),
    },
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

type Summary = { Subject: string };

async function mailsTo(address: string): Promise<Summary[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const res = await fetch(`${shop.mailpit?.apiUrl}/api/v1/search?query=${query}`);
  return ((await res.json()) as { messages: Summary[] }).messages;
}

describe('strangers guessing at an account', () => {
  it('cannot lock its owner out of a known device, and the owner is mailed', {
    timeout: 120_000,
  }, async () => {
    const owner = `owner-${randomUUID()}@example.com`;
    expect((await register(owner)).status).toBe(201);
    const first = await post('/api/v1/auth/login', { email: owner, password }, '192.0.2.200');
    expect(first.status).toBe(200);
    const { deviceToken } = (await first.json()) as { deviceToken: string };
    expect(deviceToken).toEqual(expect.any(String));

    // 125 wrong passwords from 25 addresses, 5 each: under every per-address limit.
    for (let address = 1; address <= 25; address++) {
      for (let i = 0; i < 5; i++) {
        const guess = { email: owner, password: `stranger guess ${i}` };
        const res = await post('/api/v1/auth/login', guess, `203.0.113.${address}`);
        expect([401, 429]).toContain(res.status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }

    const without = await post('/api/v1/auth/login', { email: owner, password }, '192.0.2.201');
    expect(without.status).toBe(429);
    expect(without.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(without.headers.get('retry-after'))).toBeGreaterThan(0);
    const withDevice = await post(
      '/api/v1/auth/login',
      { email: owner, password, deviceToken },
      '192.0.2.200',
    );
    expect(withDevice.status, await withDevice.clone().text()).toBe(200);
    const session = (await withDevice.json()) as { accessToken: string; deviceToken: string };
    expect(session.deviceToken).toBe(deviceToken);

    // Another client's login is served meanwhile.
    const bystander = `bystander-${randomUUID()}@example.com`;
    expect((await register(bystander)).status).toBe(201);
    expect(
      (await post('/api/v1/auth/login', { email: bystander, password }, '198.51.100.7')).status,
    ).toBe(200);

    const locked = await pollUntil(
      async () => {
        const mails = await mailsTo(owner);
        // Registration mailed the welcome and the address confirmation before it.
        return mails.find((m) => /paused|locked|sign-?in/i.test(m.Subject));
      },
      { timeoutMs: 30_000, what: `the lockout mail to ${owner}` },
    );
    expect(locked.Subject).toMatch(/paused|locked|sign-?in/i);

    // The owner can revoke its device tokens; then the cap applies to that device too.
    const forget = await shop.gateway('/api/v1/users/me/devices', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.accessToken}`, 'x-forwarded-for': '192.0.2.200' },
    });
    expect(forget.status).toBe(204);
    const revoked = await post(
      '/api/v1/auth/login',
      { email: owner, password, deviceToken },
      '192.0.2.200',
    );
    expect(revoked.status).toBe(429);
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
    const recovered = await pollUntil(
      async () => {
        const res = await post('/api/v1/auth/login', { email: account, password });
        return res.status === 503 ? undefined : res.status;
      },
      { what: 'a login answered by the restarted users', timeoutMs: 20_000 },
    );
    expect(recovered).toBe(200);
  });
});

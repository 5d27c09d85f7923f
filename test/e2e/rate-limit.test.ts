import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two gateway replicas, each beside its own sidecar, over the shop's one Redis. Behind one
// trusted proxy hop, X-Forwarded-For tells the gateways which client each request is from.
let shop: TestShop;
let replicas: string[];

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users'],
    replicas: { gateway: 2 },
    appEnv: {
      gateway: {
        TRUSTED_PROXY_HOPS: '1',
        RATE_LIMIT_DEFAULT: '6/60s',
        RATE_LIMIT_AUTH: '4/60s',
      },
    },
  });
  replicas = ['gateway', 'gateway-2'].map((name) => {
    const app = shop.apps[name];
    if (!app) throw new Error(`${name} is not running`);
    return `http://127.0.0.1:${app.appPort}`;
  });
});

afterAll(async () => {
  await shop?.stop();
});

function call(
  replica: number,
  path: string,
  options: { client: string; method?: string; token?: string; body?: unknown },
): Promise<Response> {
  const headers = new Headers({ 'x-forwarded-for': options.client });
  if (options.token) headers.set('authorization', `Bearer ${options.token}`);
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  return fetch(`${replicas[replica]}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(20_000),
  });
}

describe('rate limits shared by two gateway replicas', () => {
  it('spends one budget for requests alternating between the replicas, then refuses', async () => {
    const client = '203.0.113.10';
    const answers: Array<{ status: number; policy: string | null; limit: string | null }> = [];
    for (let i = 0; i < 8; i++) {
      const res = await call(i % 2, '/.well-known/jwks.json', { client });
      await res.body?.cancel();
      answers.push({
        status: res.status,
        policy: res.headers.get('ratelimit-policy'),
        limit: res.headers.get('ratelimit'),
      });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect(new Set(answers.map((a) => a.policy))).toEqual(new Set(['"default";q=6;w=60']));
    // One count down across both replicas, not one per replica.
    expect(answers.map((a) => /;r=(\d+);/.exec(a.limit ?? '')?.[1])).toEqual([
      '5',
      '4',
      '3',
      '2',
      '1',
      '0',
      '0',
      '0',
    ]);
  });

  it('answers a refused request with 429 problem+json and Retry-After', async () => {
    const client = '203.0.113.11';
    for (let i = 0; i < 6; i++) {
      await (await call(i % 2, '/.well-known/jwks.json', { client })).body?.cancel();
    }
    for (const replica of [0, 1]) {
      const res = await call(replica, '/.well-known/jwks.json', { client });
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=6;w=60');
      expect(res.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}`);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(await res.json()).toMatchObject({
        type: 'urn:shop:problem:rate-limited',
        status: 429,
        title: 'Too many requests',
      });
    }
  });

  it('leaves other clients, and signed-in users at the spent address, unaffected', async () => {
    const spent = '203.0.113.12';
    for (let i = 0; i < 7; i++) {
      await (await call(i % 2, '/.well-known/jwks.json', { client: spent })).body?.cancel();
    }
    expect((await call(0, '/.well-known/jwks.json', { client: spent })).status).toBe(429);

    for (const replica of [0, 1]) {
      const other = await call(replica, '/.well-known/jwks.json', { client: '203.0.113.13' });
      expect(other.status).toBe(200);
      expect(other.headers.get('ratelimit')).toMatch(/^"default";r=[45];/);
    }

    const email = `limited-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const registered = await call(0, '/api/v1/auth/register', {
      client: '203.0.113.14',
      method: 'POST',
      body: { email, password, name: 'Limited' },
    });
    expect(registered.status).toBe(201);
    const login = await call(1, '/api/v1/auth/login', {
      client: '203.0.113.14',
      method: 'POST',
      body: { email, password },
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('ratelimit')).toMatch(/^"auth";r=2;/);
    const { accessToken } = (await login.json()) as { accessToken: string };

    const me = await call(0, '/api/v1/users/me', { client: spent, token: accessToken });
    expect(me.status).toBe(200);
    expect(me.headers.get('ratelimit')).toMatch(/^"default";r=5;/);
  });

  it('keeps the auth budget apart from the rest, per address, across replicas', async () => {
    const client = '203.0.113.15';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call(i % 2, '/api/v1/auth/refresh', {
        client,
        method: 'POST',
        body: { refreshToken: 'not-a-refresh-token' },
      });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    // The users service refuses the token; the gateways stop forwarding after four.
    expect(statuses.slice(0, 4).every((status) => status !== 429)).toBe(true);
    expect(statuses.slice(4)).toEqual([429, 429]);
    const rest = await call(0, '/.well-known/jwks.json', { client });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('ratelimit')).toMatch(/^"default";r=5;/);
  });
});

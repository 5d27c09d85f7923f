import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createProductWithStock, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The seven attacks of issue 16, each as a stranger ran it against `npm start`, through the
// gateway only, with the gateway's production budgets. Behind one trusted proxy hop,
// X-Forwarded-For tells the gateway which client is which, so the attacker and the
// bystander are two clients, as on the internet. Every refusal must be a 4xx
// problem+json, and the bystander must be served normally during and after each attack.
let shop: TestShop;
let adminToken: string;
let bystanderToken: string;
let productId: string;
const admin = { email: 'attacks-admin@example.com', password: 'attacks admin password' };
const bystander = { email: 'attacks-bystander@example.com', password: 'bystander password' };
const attackerAddress = '203.0.113.66';
const bystanderAddress = '198.51.100.7';

type Call = { method?: string; token?: string; body?: unknown; headers?: Record<string, string> };

function from(address: string, path: string, call: Call = {}): Promise<Response> {
  const headers = new Headers({ 'x-forwarded-for': address, ...call.headers });
  if (call.token) headers.set('authorization', `Bearer ${call.token}`);
  if (call.body !== undefined) headers.set('content-type', 'application/json');
  return shop.gateway(path, {
    method: call.method ?? 'GET',
    headers,
    ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    signal: AbortSignal.timeout(20_000),
  });
}

async function expectProblem(res: Response, statuses: number[]): Promise<void> {
  expect(statuses, `${res.status}: ${await res.clone().text()}`).toContain(res.status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  await res.body?.cancel();
}

/** The bystander's everyday requests, each of which must succeed. */
async function bystanderIsServed(): Promise<void> {
  const calls: Array<[string, Call]> = [
    ['/api/v1/products?limit=5', {}],
    ['/api/v1/categories', {}],
    ['/api/v1/wishlist', { token: bystanderToken }],
    ['/api/v1/users/me', { token: bystanderToken }],
    ['/api/v1/orders', { token: bystanderToken }],
  ];
  for (const [path, call] of calls) {
    const res = await from(bystanderAddress, path, call);
    expect(res.status, `bystander ${path}: ${await res.clone().text()}`).toBe(200);
    await res.body?.cancel();
  }
  const graphql = await from(bystanderAddress, '/graphql', {
    method: 'POST',
    body: { query: '{ products(first: 3) { items { id } } }' },
  });
  expect(graphql.status).toBe(200);
  expect(((await graphql.json()) as { errors?: unknown }).errors).toBeUndefined();
}

async function loginFrom(address: string, body: Record<string, unknown>): Promise<Response> {
  return from(address, '/api/v1/auth/login', { method: 'POST', body });
}

beforeAll(async () => {
  shop = await startTestShop({
    appEnv: {
      // The production budgets (the gateway's defaults), not the test shop's lifted ones.
      gateway: {
        TRUSTED_PROXY_HOPS: '1',
        RATE_LIMIT_AUTH: '20/60s',
        RATE_LIMIT_SEARCH: '60/60s',
        RATE_LIMIT_CHECKOUT: '10/60s',
        RATE_LIMIT_DEFAULT: '300/60s',
      },
      users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
    },
  });
  adminToken = await shop.login(admin.email, admin.password);
  const registered = await from(bystanderAddress, '/api/v1/auth/register', {
    method: 'POST',
    body: { ...bystander, name: 'Bystander' },
  });
  expect(registered.status).toBe(201);
  bystanderToken = await shop.login(bystander.email, bystander.password);
  ({ id: productId } = await createProductWithStock(shop, adminToken, {
    sku: 'ATTACKS-1',
    stock: 100,
  }));
}, 300_000);

afterAll(async () => {
  await shop?.stop();
});

describe('1. malformed input does not switch a service off', () => {
  it('refuses NUL bytes and out-of-range cursors with 400, and keeps serving', async () => {
    const price = Buffer.from(
      JSON.stringify({ sort: 'price', price: 2 ** 31, id: randomUUID() }),
    ).toString('base64url');
    const hostile = [
      () => from(attackerAddress, '/api/v1/products?category=%00'),
      () => from(attackerAddress, `/api/v1/products?sort=price&cursor=${price}`),
      () =>
        from(attackerAddress, '/api/v1/auth/register', {
          method: 'POST',
          body: {
            email: `nul-${randomUUID()}@example.com`,
            password: 'long enough pw',
            name: 'a\u0000b',
          },
        }),
    ];
    for (const attack of hostile) {
      for (let i = 0; i < 6; i++) await expectProblem(await attack(), [400]);
      await bystanderIsServed();
    }
  });
});

describe('2. GraphQL does not multiply work past the budgets', () => {
  it('refuses 30 aliased placeOrder whole, placing nothing', async () => {
    const token = await shop.login(bystander.email, bystander.password);
    const before = (await (await from(bystanderAddress, '/api/v1/orders', { token })).json()) as {
      items: unknown[];
    };
    const fields = Array.from(
      { length: 30 },
      (_, i) =>
        `o${i}: placeOrder(idempotencyKey: "${randomUUID()}", input: { items: [{ productId: "${productId}", quantity: 1 }], paymentMethod: "card" }) { id }`,
    ).join('\n');
    const res = await from(attackerAddress, '/graphql', {
      method: 'POST',
      token,
      body: { query: `mutation { ${fields} }` },
    });
    await expectProblem(res, [400, 429]);
    const after = (await (await from(bystanderAddress, '/api/v1/orders', { token })).json()) as {
      items: unknown[];
    };
    expect(after.items).toHaveLength(before.items.length);
  });

  it('refuses 200 aliased searches with `first` from a variable', async () => {
    const fields = Array.from(
      { length: 200 },
      (_, i) => `s${i}: products(q: "lamp ${i}", first: $n) { items { id } }`,
    ).join('\n');
    const res = await from(attackerAddress, '/graphql', {
      method: 'POST',
      body: { query: `query($n: Int) { ${fields} }`, variables: { n: 100 } },
    });
    await expectProblem(res, [400, 429]);
    await bystanderIsServed();
  });
});

describe('3. notification streams are bounded per user', () => {
  it('refuses a sixth stream with 429 and Retry-After', async () => {
    const token = await shop.login(bystander.email, bystander.password);
    const streams = new AbortController();
    try {
      for (let i = 0; i < 5; i++) {
        const res = await shop.gateway('/api/v1/notifications/stream', {
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': attackerAddress },
          signal: streams.signal,
        });
        expect(res.status).toBe(200);
      }
      const sixth = await from(attackerAddress, '/api/v1/notifications/stream', { token });
      expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
      await expectProblem(sixth, [429]);
      await bystanderIsServed();
    } finally {
      streams.abort();
    }
  });
});

describe('4. strangers cannot lock an owner out', () => {
  it('lets the owner in with its device token after 125 wrong passwords from 25 addresses', async () => {
    const owner = { email: `owner-${randomUUID()}@example.com`, password: 'owner password 1' };
    const registered = await from(bystanderAddress, '/api/v1/auth/register', {
      method: 'POST',
      body: { ...owner, name: 'Owner' },
    });
    expect(registered.status).toBe(201);
    const first = await loginFrom('192.0.2.200', owner);
    expect(first.status).toBe(200);
    const { deviceToken } = (await first.json()) as { deviceToken: string };
    expect(deviceToken).toEqual(expect.any(String));

    for (let address = 0; address < 25; address++) {
      for (let i = 0; i < 5; i++) {
        const res = await loginFrom(`203.0.113.${address + 1}`, { ...owner, password: `x${i}` });
        await expectProblem(res, [401, 429]);
      }
    }
    await expectProblem(await loginFrom('192.0.2.201', owner), [429]);
    const withDevice = await loginFrom('192.0.2.200', { ...owner, deviceToken });
    expect(withDevice.status, await withDevice.clone().text()).toBe(200);
    await bystanderIsServed();
  });
});

describe('5. forged tokens spend a budget before they are verified', () => {
  it('answers 429 to a flood of broken signatures from one address', async () => {
    const [header = '', payload = ''] = bystanderToken.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const statuses = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const res = await from(attackerAddress, '/api/v1/users/me', { token: forged });
      statuses.add(res.status);
      await expectProblem(res, [401, 429]);
      if (res.status === 429) break;
    }
    expect(statuses).toContain(429);
    await bystanderIsServed();
  });
});

describe('6. operational endpoints are not public', () => {
  it('does not serve /metrics on the public port', async () => {
    const res = await from(attackerAddress, '/metrics');
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});

/** A request fetch() will not send (it forbids TRACE), over a plain HTTP/1.1 connection. */
function rawRequest(method: string, path: string) {
  const url = new URL(path, shop.gatewayUrl);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        url,
        { method, headers: { 'x-forwarded-for': attackerAddress } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

describe('7. an unusual method is refused at the gateway', () => {
  it('answers 405 with Allow and does not count against the service', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'PURGE']) {
      for (let i = 0; i < 6; i++) {
        const res = await rawRequest(method, '/api/v1/products');
        expect(res.status, `${method}: ${res.body}`).toBe(405);
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(String(res.headers.allow)).toMatch(/GET/);
      }
    }
    await bystanderIsServed();
  });
});

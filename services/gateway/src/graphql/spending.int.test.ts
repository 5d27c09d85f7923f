import { createTestTokens } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { RateLimitBudgets } from '../rate-limit/index.ts';
import { type Invoke, useTestRedis } from '../test-support.ts';

// GraphQL spends the REST budgets per root field, in the same Redis keys as REST, before
// anything runs; these run over a real Redis, every service answering from `invoke`.
const tokens = await createTestTokens();
const alice = await tokens.issue('alice');
const budgets: RateLimitBudgets = {
  auth: { requests: 3, windowSeconds: 60 },
  search: { requests: 3, windowSeconds: 60 },
  checkout: { requests: 3, windowSeconds: 60 },
  default: { requests: 5, windowSeconds: 60 },
};

const redis = useTestRedis();

const order = { id: 'o-1', status: 'pending', items: [] };
const page = { items: [{ id: 'p-1', name: 'Lamp' }], nextCursor: null };

/** A gateway over the test Redis; `calls` lists every path a service was asked for. */
async function gateway() {
  const calls: string[] = [];
  const invoke: Invoke = async (_appId, path) => {
    calls.push(path);
    if (path === '/api/v1/orders') return Response.json(order, { status: 201 });
    if (path === '/api/v1/cart/checkout') return Response.json(order, { status: 202 });
    if (path.startsWith('/api/v1/products')) return Response.json(page);
    return Response.json({ items: [] });
  };
  return { app: await redis.replica({ verifier: tokens.verifier, invoke, budgets }), calls };
}

type App = Awaited<ReturnType<typeof gateway>>['app'];

function headers(address: string, token?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-forwarded-for': address,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

function graphql(
  app: App,
  address: string,
  body: { query: string; variables?: Record<string, unknown> },
  token?: string,
) {
  return app.request('/graphql', {
    method: 'POST',
    headers: headers(address, token),
    body: JSON.stringify(body),
  });
}

const placeOrders = (n: number) =>
  `mutation { ${Array.from(
    { length: n },
    (_, i) =>
      `o${i}: placeOrder(idempotencyKey: "k-${i}", input: { items: [{ productId: "p-1", quantity: 1 }], paymentMethod: "pm_card_visa" }) { id }`,
  ).join(' ')} }`;

const restOrder = (app: App, address: string, token: string) =>
  app.request('/api/v1/orders', { method: 'POST', body: '{}', headers: headers(address, token) });

describe('GraphQL spends the REST budgets', () => {
  it('refuses whole, with 429 and the headers, an operation that would overspend', async () => {
    const { app, calls } = await gateway();
    const refused = await graphql(app, '203.0.113.1', { query: placeOrders(4) }, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('ratelimit-policy')).toBe('"checkout";q=3;w=60');
    const retryAfter = refused.headers.get('retry-after');
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toBe(`"checkout";r=3;t=${retryAfter}`);
    expect(await refused.json()).toMatchObject({
      type: 'urn:shop:problem:rate-limited',
      status: 429,
      detail:
        'this request needs 4 of the checkout budget, which allows 3 per 60 s; ask for less at once',
    });
    expect(calls).toEqual([]);

    // Nothing was spent: REST still has the whole checkout budget.
    const rest = await restOrder(app, '203.0.113.1', alice);
    expect(rest.status).toBe(201);
    expect(rest.headers.get('ratelimit')).toMatch(/^"checkout";r=2;t=\d+$/);
  });

  it('spends one point per root field, from the budget REST and GraphQL share', async () => {
    const { app, calls } = await gateway();
    const placed = await graphql(app, '203.0.113.2', { query: placeOrders(2) }, alice);
    expect(placed.status).toBe(200);
    expect(placed.headers.get('ratelimit-policy')).toBe('"checkout";q=3;w=60');
    expect(placed.headers.get('ratelimit')).toMatch(/^"checkout";r=1;t=\d+$/);
    expect(calls).toEqual(['/api/v1/orders', '/api/v1/orders']);

    // The same user from another address spends the same budget over REST...
    expect((await restOrder(app, '198.51.100.7', alice)).status).toBe(201);
    // ...and then one placeOrder is one too many, refused before it runs.
    const refused = await graphql(app, '203.0.113.2', { query: placeOrders(1) }, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit')).toMatch(/^"checkout";r=0;t=\d+$/);
    expect(calls).toHaveLength(3);
  });

  it('spends the checkout budget for checkoutCart as for placeOrder', async () => {
    const { app, calls } = await gateway();
    const query = `mutation {
      a: checkoutCart(paymentMethod: "pm_card_visa", idempotencyKey: "k-a") { id }
      b: checkoutCart(paymentMethod: "pm_card_visa", idempotencyKey: "k-b") { id }
    }`;
    const placed = await graphql(app, '203.0.113.4', { query }, alice);
    expect(placed.headers.get('ratelimit')).toMatch(/^"checkout";r=1;t=\d+$/);
    expect(calls).toEqual(['/api/v1/cart/checkout', '/api/v1/cart/checkout']);
    const refused = await graphql(app, '203.0.113.4', { query: placeOrders(2) }, alice);
    expect(refused.status).toBe(429);
    expect(calls).toHaveLength(2);
  });

  it('counts products with q as a search, literal or variable, and the rest as default', async () => {
    const { app, calls } = await gateway();
    const query = `query ($q: String, $none: String) {
      a: products(q: "lamp") { items { id } }
      b: products(q: $q) { items { id } }
      c: products(q: $none) { items { id } }
      d: products(q: "") { items { id } }
      categories { name }
    }`;
    const res = await graphql(app, '203.0.113.3', { query, variables: { q: 'desk' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe('"search";q=3;w=60, "default";q=5;w=60');
    expect(res.headers.get('ratelimit')).toMatch(/^"search";r=1;t=\d+, "default";r=2;t=\d+$/);
    expect(calls).toHaveLength(5);

    // Two searches more is one too many: refused whole, the default points given back.
    const again = await graphql(app, '203.0.113.3', {
      query:
        '{ a: products(q: "a") { items { id } } b: products(q: "b") { items { id } } categories { name } }',
    });
    expect(again.status).toBe(429);
    expect(again.headers.get('ratelimit-policy')).toBe('"search";q=3;w=60');
    expect(again.headers.get('ratelimit')).toMatch(/^"search";r=1;t=\d+$/);
    expect(calls).toHaveLength(5);
    const listing = await app.request('/api/v1/categories', { headers: headers('203.0.113.3') });
    expect(listing.headers.get('ratelimit')).toMatch(/^"default";r=1;t=\d+$/);
  });
});

describe('GraphQL spends the REST budgets per caller', () => {
  it('limits anonymous callers per address, as REST does', async () => {
    const { app } = await gateway();
    const browse = (address: string) =>
      graphql(app, address, { query: '{ a: categories { name } b: categories { name } }' });
    expect((await browse('192.0.2.1')).headers.get('ratelimit')).toMatch(/^"default";r=3;/);
    expect((await browse('192.0.2.1')).headers.get('ratelimit')).toMatch(/^"default";r=1;/);
    expect((await browse('192.0.2.1')).status).toBe(429);
    expect((await browse('192.0.2.2')).status).toBe(200);
    // Signed in, the same address has the user's own budget.
    const signedIn = await graphql(app, '192.0.2.1', { query: '{ me { id } } ' }, alice);
    expect(signedIn.headers.get('ratelimit')).toMatch(/^"default";r=4;/);
  });

  it('charges one default point for a request refused before it ran', async () => {
    const { app, calls } = await gateway();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await graphql(app, '192.0.2.9', { query: '{ products {' })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const over = await graphql(app, '192.0.2.10', {
      query: `{ ${Array.from({ length: 16 }, (_, i) => `c${i}: categories { name }`).join(' ')} }`,
    });
    expect(over.headers.get('ratelimit')).toMatch(/^"default";r=4;/);
    expect(calls).toEqual([]);
  });
});

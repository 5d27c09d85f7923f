import { createTestTokens } from '@shop/devkit/testing';
import { createLogger } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';

// Each account, catalog and cart operation is the REST call of the same meaning, made as
// the caller through the sidecar; the services' answers, real, are in test/e2e/graphql.test.ts.
const logger = createLogger({ service: 'gateway', write: () => {} });
const tokens = await createTestTokens();
const accessToken = await tokens.issue('u-1', 'admin');
const productId = '5f0c3e5e-1a53-4a39-a1c4-1b61d3ae1a11';

type Call = { appId: string; path: string; method: string; headers: Headers; body: unknown };

function gatewayAnswering(answer: (call: Call) => Response) {
  const calls: Call[] = [];
  const app = createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 200,
      TRUSTED_PROXY_HOPS: 0,
    },
    logger,
    sidecar: {
      invoke: async (appId, path, init) => {
        const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
        const call = {
          appId,
          path,
          method: init.method ?? 'GET',
          headers: new Headers(init.headers),
          body,
        };
        calls.push(call);
        return answer(call);
      },
      ready: async () => {},
    },
    verifier: tokens.verifier,
  });
  return { app, calls };
}

async function graphql(app: ReturnType<typeof createApp>, query: string, token = accessToken) {
  const res = await app.request('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions: Record<string, unknown> }>;
  };
}

const user = {
  id: 'u-2',
  email: 'b@example.com',
  name: 'B',
  role: 'customer',
  status: 'active',
  emailVerified: false,
  createdAt: '2026-01-01T00:00:00.000Z',
};
const product = { id: productId, sku: 'S-1', name: 'Lamp', price: 1200, currency: 'USD' };
const cart = {
  items: [{ productId, name: 'Lamp', quantity: 2, unitPrice: 1200, available: 5 }],
  total: 2400,
  currency: 'USD',
};
const tokenPair = { accessToken: 'a', refreshToken: 'r', tokenType: 'Bearer', expiresIn: 900 };

// operation, the REST call it makes (app, method, path, body), and what the service answers.
const operations: Array<[string, Omit<Call, 'headers'>, Response]> = [
  [
    '{ users(q: "b", role: customer, status: active, first: 5, after: "c1") { items { id status emailVerified } nextCursor } }',
    {
      appId: 'users',
      method: 'GET',
      path: '/api/v1/admin/users?q=b&role=customer&status=active&limit=5&cursor=c1',
      body: undefined,
    },
    Response.json({ items: [user], nextCursor: null }),
  ],
  [
    '{ user(id: "u-2") { id } }',
    { appId: 'users', method: 'GET', path: '/api/v1/admin/users/u-2', body: undefined },
    Response.json(user),
  ],
  [
    '{ cart { items { productId available } total currency } }',
    { appId: 'cart', method: 'GET', path: '/api/v1/cart', body: undefined },
    Response.json(cart),
  ],
  [
    'mutation { createUser(email: "b@example.com", password: "correct horse battery", name: "B") { id } }',
    {
      appId: 'users',
      method: 'POST',
      path: '/api/v1/auth/register',
      body: { email: 'b@example.com', password: 'correct horse battery', name: 'B' },
    },
    Response.json(user, { status: 201 }),
  ],
  [
    'mutation { updateMe(name: "Bee") { name } }',
    { appId: 'users', method: 'PATCH', path: '/api/v1/users/me', body: { name: 'Bee' } },
    Response.json({ ...user, name: 'Bee' }),
  ],
  [
    'mutation { changePassword(currentPassword: "old one here", newPassword: "new one here") { accessToken expiresIn } }',
    {
      appId: 'users',
      method: 'POST',
      path: '/api/v1/users/me/password',
      body: { currentPassword: 'old one here', newPassword: 'new one here' },
    },
    Response.json(tokenPair),
  ],
  [
    'mutation { updateUser(id: "u-2", status: disabled, role: null) { status } }',
    {
      appId: 'users',
      method: 'PATCH',
      path: '/api/v1/admin/users/u-2',
      body: { status: 'disabled' },
    },
    Response.json({ ...user, status: 'disabled' }),
  ],
  [
    'mutation { createProduct(input: { sku: "S-1", name: "Lamp", category: "home", price: 1200, currency: "USD", stock: 3 }) { id } }',
    {
      appId: 'catalog',
      method: 'POST',
      path: '/api/v1/products',
      body: { sku: 'S-1', name: 'Lamp', category: 'home', price: 1200, currency: 'USD', stock: 3 },
    },
    Response.json(product, { status: 201 }),
  ],
  [
    `mutation { updateProduct(id: "${productId}", input: { price: 999, name: null }) { id } }`,
    {
      appId: 'catalog',
      method: 'PATCH',
      path: `/api/v1/products/${productId}`,
      body: { price: 999 },
    },
    Response.json(product),
  ],
  [
    `mutation { deleteProduct(id: "${productId}") }`,
    { appId: 'catalog', method: 'DELETE', path: `/api/v1/products/${productId}`, body: undefined },
    new Response(null, { status: 204 }),
  ],
  [
    `mutation { setCartItem(productId: "${productId}", quantity: 2) { total } }`,
    {
      appId: 'cart',
      method: 'PUT',
      path: `/api/v1/cart/items/${productId}`,
      body: { quantity: 2 },
    },
    Response.json(cart),
  ],
  [
    `mutation { removeCartItem(productId: "${productId}") { total } }`,
    { appId: 'cart', method: 'DELETE', path: `/api/v1/cart/items/${productId}`, body: undefined },
    Response.json({ items: [], total: 0, currency: 'USD' }),
  ],
  [
    'mutation { checkoutCart(paymentMethod: "pm_card_visa", idempotencyKey: "k-1") { id status } }',
    {
      appId: 'cart',
      method: 'POST',
      path: '/api/v1/cart/checkout',
      body: { paymentMethod: 'pm_card_visa' },
    },
    Response.json({ id: 'o-1', status: 'pending' }, { status: 202 }),
  ],
];

describe('GraphQL account, catalog and cart operations', () => {
  it.each(operations)('%s calls its REST route as the caller', async (query, expected, answer) => {
    const { app, calls } = gatewayAnswering(() => answer);
    const body = await graphql(app, query);
    expect(body.errors).toBeUndefined();
    expect(Object.values(body.data ?? {})[0]).not.toBeNull();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect({ ...call, headers: undefined }).toEqual({ ...expected, headers: undefined });
    expect(call?.headers.get('authorization')).toBe(`Bearer ${accessToken}`);
  });

  it('sends the idempotency key of a cart checkout as REST takes it', async () => {
    const { app, calls } = gatewayAnswering(() => Response.json({ id: 'o-1', status: 'pending' }));
    await graphql(
      app,
      'mutation { checkoutCart(paymentMethod: "pm_card_visa", idempotencyKey: "k-9") { id } }',
    );
    expect(calls[0]?.headers.get('idempotency-key')).toBe('k-9');
  });

  it("answers a service's refusal with its code, as every resolver does", async () => {
    const problem = (status: number, type: string) =>
      new Response(JSON.stringify({ type: `urn:shop:problem:${type}`, status, detail: type }), {
        status,
        headers: { 'content-type': 'application/problem+json' },
      });
    const refusals: Array<[string, Response, string]> = [
      [`mutation { deleteProduct(id: "${productId}") }`, problem(403, 'forbidden'), 'forbidden'],
      [
        'mutation { changePassword(currentPassword: "x", newPassword: "y") { accessToken } }',
        problem(403, 'forbidden'),
        'forbidden',
      ],
      [
        'mutation { updateUser(id: "u-1", role: customer) { id } }',
        problem(409, 'conflict'),
        'conflict',
      ],
      [
        'mutation { checkoutCart(paymentMethod: "p", idempotencyKey: "k") { id } }',
        problem(409, 'conflict'),
        'conflict',
      ],
      [
        `mutation { setCartItem(productId: "${productId}", quantity: 101) { total } }`,
        problem(400, 'validation-failed'),
        'validation_failed',
      ],
    ];
    for (const [query, answer, code] of refusals) {
      const { app } = gatewayAnswering(() => answer);
      const body = await graphql(app, query);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code, status: answer.status });
    }
  });

  it('puts no id that is not a plain path segment into a path', async () => {
    const { app, calls } = gatewayAnswering(() => Response.json(user));
    for (const query of [
      'mutation { updateUser(id: "../products", role: admin) { id } }',
      '{ user(id: "a%2Fb") { id } }',
      'mutation { setCartItem(productId: "..", quantity: 1) { total } }',
    ]) {
      expect((await graphql(app, query)).errors?.[0]?.extensions.code).toBe('not_found');
    }
    expect(calls).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createProductWithStock,
  startTestShop,
  type TestShop,
  waitForSettled,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// GraphQL at the gateway against the whole shop: every field is read from the services
// through the gateway's sidecar as REST reads it, so one scenario run both ways must give
// the same data, and the same problem codes.
let shop: TestShop;
let adminToken: string;
let customerToken: string;
let otherToken: string;
const admin = { email: 'graphql-admin@example.com', password: 'graphql admin password' };
const customer = { email: 'graphql-shopper@example.com', password: 'graphql shopper password' };
const other = { email: 'graphql-other@example.com', password: 'graphql other password' };

type GraphQLResult<T> = {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions: Record<string, unknown> }>;
};

async function graphql<T = Record<string, unknown>>(
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; requestId?: string } = {},
): Promise<GraphQLResult<T>> {
  const res = await shop.send('POST', '/graphql', {
    body: { query, variables: options.variables ?? {} },
    ...(options.token ? { token: options.token } : {}),
    headers: { 'x-request-id': options.requestId ?? randomUUID() },
  });
  expect(res.headers.get('content-type')).toContain('application/json');
  return (await res.json()) as GraphQLResult<T>;
}

async function rest<T>(method: string, path: string, token?: string, body?: unknown) {
  const res = await shop.send(method, path, {
    ...(token ? { token } : {}),
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function restOk<T>(method: string, path: string, token?: string, body?: unknown) {
  const res = await rest<T>(method, path, token, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

const productFields =
  'id sku name description category price currency available createdAt updatedAt';
const orderFields = `id userId status total currency paymentMethod cancelReason createdAt updatedAt
  items { productId name quantity unitPrice }`;
const timelineFields = 'timeline { step at eventId detail }';

/** REST leaves an absent optional field out; GraphQL answers null for it. */
const withoutNulls = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value, (_, v) => (v === null ? undefined : v)));

/** The catalog's access log lines for one request id. */
const catalogRequests = (requestId: string) =>
  shop
    .log('catalog')
    .split('\n')
    .filter((line) => line.includes('"msg":"request"') && line.includes(`"${requestId}"`))
    .map((line) => JSON.parse(line) as { path: string; caller?: string });

beforeAll(async () => {
  shop = await startTestShop({
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
  for (const account of [customer, other]) {
    const registered = await shop.send('POST', '/api/v1/auth/register', {
      body: { ...account, name: 'GraphQL Shopper' },
    });
    expect(registered.status).toBe(201);
  }
  customerToken = await shop.login(customer.email, customer.password);
  otherToken = await shop.login(other.email, other.password);
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

describe('one scenario through REST and through GraphQL', () => {
  it('gives the same data', async () => {
    const word = `zephyrine${Date.now()}`;
    const [lamp, chair] = await Promise.all(
      ['lamp', 'chair'].map((kind, i) =>
        createProductWithStock(shop, adminToken, {
          sku: `GQL-PARITY-${kind}`,
          name: `${word} ${kind}`,
          price: 1_000 * (i + 1),
          stock: 10,
        }),
      ),
    );
    if (!lamp || !chair) throw new Error('no products');

    // Search, one product, categories, me.
    const search = await restOk<{ items: unknown[] }>(
      'GET',
      `/api/v1/products?q=${word}&sort=price&limit=10`,
    );
    expect(search.items).toHaveLength(2);
    const reads = await graphql<{
      products: { items: unknown[]; nextCursor: string | null };
      product: unknown;
      categories: unknown[];
      me: unknown;
    }>(
      `query($q: String!, $id: ID!) {
        products(q: $q, sort: price, first: 10) { items { ${productFields} } nextCursor }
        product(id: $id) { ${productFields} }
        categories { name productCount }
        me { id email name role status emailVerified createdAt }
      }`,
      { variables: { q: word, id: lamp.id }, token: customerToken },
    );
    expect(reads.errors).toBeUndefined();
    expect(reads.data?.products).toEqual(search);
    expect(reads.data?.product).toEqual(await restOk('GET', `/api/v1/products/${lamp.id}`));
    expect(reads.data?.categories).toEqual(
      (await restOk<{ items: unknown[] }>('GET', '/api/v1/categories')).items,
    );
    expect(reads.data?.me).toEqual(await restOk('GET', '/api/v1/users/me', customerToken));

    // The same order placed both ways.
    const input = {
      items: [
        { productId: lamp.id, quantity: 2 },
        { productId: chair.id, quantity: 1 },
      ],
      paymentMethod: 'pm_card_visa',
    };
    const placedByRest = await shop.send('POST', '/api/v1/orders', {
      token: customerToken,
      body: input,
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(placedByRest.status).toBe(202);
    const restOrder = (await placedByRest.json()) as { id: string };
    const key = randomUUID();
    const placeOrder = `mutation($input: PlaceOrderInput!, $key: String!) {
      placeOrder(input: $input, idempotencyKey: $key) { ${orderFields} }
    }`;
    const placed = await graphql<{ placeOrder: { id: string } }>(placeOrder, {
      variables: { input, key },
      token: customerToken,
    });
    expect(placed.errors).toBeUndefined();
    const gqlOrder = placed.data?.placeOrder;
    if (!gqlOrder) throw new Error('no order');
    const comparable = ({ id, createdAt, updatedAt, ...rest }: Record<string, unknown>) => rest;
    expect(comparable(withoutNulls(gqlOrder))).toEqual(comparable(restOrder));

    // The same key and input answer the same order, as REST's replay does.
    const replay = await graphql<{ placeOrder: { id: string } }>(placeOrder, {
      variables: { input, key },
      token: customerToken,
    });
    expect(replay.data?.placeOrder.id).toBe(gqlOrder.id);

    // Each order read both ways, timeline included, once the saga has settled them.
    for (const id of [restOrder.id, gqlOrder.id]) {
      await waitForSettled(shop, customerToken, id);
      const read = await graphql<{ order: Record<string, unknown> }>(
        `query($id: ID!) { order(id: $id) { ${orderFields} ${timelineFields} } }`,
        { variables: { id }, token: customerToken },
      );
      expect(read.errors).toBeUndefined();
      const { timeline, ...order } = withoutNulls(read.data?.order ?? {});
      expect(order).toEqual(await restOk('GET', `/api/v1/orders/${id}`, customerToken));
      expect(order.status).toBe('confirmed');
      expect(timeline).toEqual(
        (await restOk<{ items: unknown[] }>('GET', `/api/v1/orders/${id}/timeline`, customerToken))
          .items,
      );
    }
    const myOrders = await graphql<{ myOrders: unknown }>(
      `{ myOrders(status: confirmed, first: 10) { items { ${orderFields} } nextCursor } }`,
      { token: customerToken },
    );
    const ordersPage = myOrders.data?.myOrders as { items: unknown[]; nextCursor: string | null };
    expect({ ...ordersPage, items: ordersPage.items.map(withoutNulls) }).toEqual(
      await restOk('GET', '/api/v1/orders?status=confirmed&limit=10', customerToken),
    );

    // Wishlist: one added each way, read both ways, one removed through GraphQL.
    await restOk('PUT', `/api/v1/wishlist/${lamp.id}`, customerToken);
    const added = await graphql<{ addToWishlist: { items: Array<{ id: string }> } }>(
      `mutation($id: ID!) { addToWishlist(productId: $id) { items { ${productFields} } } }`,
      { variables: { id: chair.id }, token: customerToken },
    );
    expect(added.errors).toBeUndefined();
    const wishlist = await restOk<{ items: unknown[] }>('GET', '/api/v1/wishlist', customerToken);
    expect(wishlist.items).toHaveLength(2);
    expect(added.data?.addToWishlist).toEqual(wishlist);
    const wished = await graphql<{ wishlist: unknown }>(
      `{ wishlist { items { ${productFields} } } }`,
      { token: customerToken },
    );
    expect(wished.data?.wishlist).toEqual(wishlist);
    const removed = await graphql<{ removeFromWishlist: { items: Array<{ id: string }> } }>(
      `mutation($id: ID!) { removeFromWishlist(productId: $id) { items { id } } }`,
      { variables: { id: lamp.id }, token: customerToken },
    );
    expect(removed.data?.removeFromWishlist.items.map((p) => p.id)).toEqual([chair.id]);

    // Notifications: the welcome and both confirmations, read both ways; one marked read.
    const notificationFields = 'id type title body data createdAt readAt';
    const inbox = await pollUntil(
      async () => {
        const page = await restOk<{ items: Array<{ id: string; type: string }> }>(
          'GET',
          '/api/v1/notifications?limit=50',
          customerToken,
        );
        const confirmed = page.items.filter((n) => n.type === 'order_confirmed');
        return confirmed.length === 2 ? page : undefined;
      },
      { what: 'both order confirmations in the inbox', timeoutMs: 20_000 },
    );
    const notifications = await graphql<{ notifications: unknown }>(
      `{ notifications(first: 50) { items { ${notificationFields} } nextCursor } }`,
      { token: customerToken },
    );
    expect(notifications.data?.notifications).toEqual(inbox);
    const first = inbox.items[0];
    if (!first) throw new Error('no notification');
    const marked = await graphql<{ markNotificationRead: boolean }>(
      'mutation($id: ID!) { markNotificationRead(id: $id) }',
      { variables: { id: first.id }, token: customerToken },
    );
    expect(marked).toEqual({ data: { markNotificationRead: true } });
    const unread = await graphql<{ notifications: { items: Array<{ id: string }> } }>(
      `{ notifications(unread: true, first: 50) { items { ${notificationFields} } nextCursor } }`,
      { token: customerToken },
    );
    expect(unread.data?.notifications).toEqual(
      await restOk('GET', '/api/v1/notifications?unread=true&limit=50', customerToken),
    );
    expect(unread.data?.notifications.items.map((n) => n.id)).not.toContain(first.id);

    // Cancelling: a confirmed order is refunded, as REST cancels it.
    const cancelled = await graphql<{ cancelOrder: { status: string; cancelReason: string } }>(
      'mutation($id: ID!) { cancelOrder(id: $id) { status cancelReason } }',
      { variables: { id: gqlOrder.id }, token: customerToken },
    );
    expect(cancelled.data?.cancelOrder).toEqual({
      status: 'cancelled',
      cancelReason: 'customer_request',
    });
  }, 180_000);
});

describe('batching', () => {
  it('reads the products of an order of 20 lines with one catalog batch call', async () => {
    const products = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createProductWithStock(shop, adminToken, { sku: `GQL-BATCH-${i}`, stock: 5 }),
      ),
    );
    const placed = await graphql<{ placeOrder: { id: string } }>(
      `mutation($input: PlaceOrderInput!, $key: String!) {
        placeOrder(input: $input, idempotencyKey: $key) { id }
      }`,
      {
        variables: {
          input: {
            items: products.map((p) => ({ productId: p.id, quantity: 1 })),
            paymentMethod: 'pm_card_visa',
          },
          key: randomUUID(),
        },
        token: customerToken,
      },
    );
    const orderId = placed.data?.placeOrder.id;
    if (!orderId) throw new Error(JSON.stringify(placed.errors));

    // The catalog logs every request with its request id: each GraphQL request below must
    // show exactly one batch read there, and no read of a single product.
    const catalogCallsOf = async (query: string, variables: Record<string, unknown> = {}) => {
      const requestId = `graphql-batch-${randomUUID()}`;
      const result = await graphql<{
        order?: { items: Array<{ productId: string; product: { id: string } }> };
        myOrders?: {
          items: Array<{ items: Array<{ productId: string; product: { id: string } }> }>;
        };
      }>(query, { variables, token: customerToken, requestId });
      expect(result.errors).toBeUndefined();
      const calls = await pollUntil(
        async () => {
          const lines = catalogRequests(requestId);
          return lines.length > 0 ? lines : undefined;
        },
        { what: `catalog's log of request ${requestId}`, timeoutMs: 20_000 },
      );
      return { data: result.data, calls };
    };
    const oneBatch = [
      expect.objectContaining({ path: '/internal/products/batch', caller: 'gateway' }),
    ];

    const one = await catalogCallsOf(
      'query($id: ID!) { order(id: $id) { items { productId product { id name price } } } }',
      { id: orderId },
    );
    expect(one.data?.order?.items).toHaveLength(20);
    for (const item of one.data?.order?.items ?? []) expect(item.product.id).toBe(item.productId);
    expect(one.calls).toEqual(oneBatch);

    // A page of orders: every line of every order in it, still one batch read.
    const page = await catalogCallsOf(
      '{ myOrders(first: 20) { items { items { productId product { id } } } } }',
    );
    const lines = page.data?.myOrders?.items.flatMap((order) => order.items) ?? [];
    expect(page.data?.myOrders?.items.length).toBeGreaterThan(1);
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(line.product.id).toBe(line.productId);
    expect(page.calls).toEqual(oneBatch);
  }, 120_000);
});

describe('limits', () => {
  /** A request over a limit is refused whole, as REST refuses one: 400 problem+json. */
  async function refused(query: string, variables: Record<string, unknown> = {}) {
    const requestId = `graphql-limit-${randomUUID()}`;
    const res = await shop.send('POST', '/graphql', {
      body: { query, variables },
      token: customerToken,
      headers: { 'x-request-id': requestId },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('ratelimit-policy')).toContain('"default"');
    const problem = (await res.json()) as { type: string; detail: string; requestId: string };
    expect(problem).toMatchObject({ type: 'urn:shop:problem:bad-request', requestId });
    expect(catalogRequests(requestId)).toEqual([]);
    return problem.detail;
  }

  it('refuses a query nested too deep, calling no service', async () => {
    expect(
      await refused(
        '{ __type(name: "Order") { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }',
      ),
    ).toBe('Query depth limit of 7 exceeded, found 8.');
  });

  it('refuses a query that costs too much, `first` written or sent, calling no service', async () => {
    const fields = Array.from(
      { length: 10 },
      (_, i) => `o${i}: myOrders(first: 100) { items { id items { product { id name } } } }`,
    );
    expect(await refused(`{ ${fields.join(' ')} }`)).toMatch(
      /^Query Cost limit of 5000 exceeded, found \d+/,
    );
    expect(
      await refused('query($n: Int) { products(q: "lamp", first: $n) { items { id name } } }', {
        n: 1000,
      }),
    ).toBe('Query Cost limit of 5000 exceeded, found 9500.');
  });

  it('refuses too many aliases and root fields, calling no service', async () => {
    const searches = (n: number) =>
      Array.from({ length: n }, (_, i) => `s${i}: products(q: "lamp ${i}") { items { id } }`);
    expect(await refused(`{ ${searches(200).join(' ')} }`)).toBe(
      'Aliases limit of 15 exceeded, found 200.',
    );
    expect(await refused(`{ ${searches(11).join(' ')} }`)).toBe(
      'Root fields limit of 10 exceeded, found 11.',
    );
  });

  it('spends the budget REST spends, one point per root field', async () => {
    const res = await shop.send('POST', '/graphql', {
      body: {
        query:
          '{ a: products(q: "lamp") { items { id } } b: products(q: "desk") { items { id } } categories { name } }',
      },
      token: customerToken,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toMatch(
      /^"search";q=\d+;w=60, "default";q=\d+;w=60$/,
    );
    const remaining = (res.headers.get('ratelimit') ?? '').match(/r=(\d+)/g);
    expect(remaining).toHaveLength(2);
    await res.body?.cancel();
    // REST's next search is the same budget, two points lower.
    const rest = await shop.send('GET', '/api/v1/products?q=chair', { token: customerToken });
    const after = Number(/r=(\d+)/.exec(rest.headers.get('ratelimit') ?? '')?.[1]);
    expect(after).toBe(Number(remaining?.[0]?.slice(2)) - 1);
    await rest.body?.cancel();
  });
});

describe('error codes', () => {
  /** REST's problem code: the tail of its type, spelled as the platform's codes are. */
  const restCode = (problem: { type: string }) =>
    problem.type.replace('urn:shop:problem:', '').replaceAll('-', '_');

  it("answers another user's order as REST does: not_found", async () => {
    const product = await createProductWithStock(shop, adminToken, { sku: 'GQL-OTHER', stock: 1 });
    const res = await shop.send('POST', '/api/v1/orders', {
      token: otherToken,
      body: { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'pm_card_visa' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(202);
    const order = (await res.json()) as { id: string };

    const viaRest = await rest<{ type: string; status: number }>(
      'GET',
      `/api/v1/orders/${order.id}`,
      customerToken,
    );
    expect(viaRest.status).toBe(404);
    const viaGraphql = await graphql(`{ order(id: "${order.id}") { id } }`, {
      token: customerToken,
    });
    expect(viaGraphql.data).toEqual({ order: null });
    expect(viaGraphql.errors?.[0]?.extensions).toMatchObject({
      code: restCode(viaRest.body),
      type: viaRest.body.type,
      status: 404,
    });
    expect(viaGraphql.errors?.[0]?.extensions.code).toBe('not_found');
  });

  it('gives each refusal the code REST gives it', async () => {
    const cases: Array<{ rest: () => ReturnType<typeof rest>; query: string; token?: string }> = [
      // No token.
      { rest: () => rest('GET', '/api/v1/users/me'), query: '{ me { id } }' },
      // Invalid input, judged by orders.
      {
        rest: () =>
          shop
            .send('POST', '/api/v1/orders', {
              token: customerToken,
              body: { items: [{ productId: randomUUID(), quantity: 1 }], paymentMethod: 'cash' },
              headers: { 'idempotency-key': randomUUID() },
            })
            .then(async (r) => ({ status: r.status, body: await r.json() })),
        query: `mutation { placeOrder(input: { items: [{ productId: "${randomUUID()}", quantity: 1 }], paymentMethod: "cash" }, idempotencyKey: "${randomUUID()}") { id } }`,
        token: customerToken,
      },
      // An unknown product on the wishlist.
      {
        rest: () => rest('PUT', `/api/v1/wishlist/${randomUUID()}`, customerToken),
        query: `mutation { addToWishlist(productId: "${randomUUID()}") { items { id } } }`,
        token: customerToken,
      },
      // A page too large, judged by the catalog.
      {
        rest: () => rest('GET', '/api/v1/products?limit=500'),
        query: '{ products(first: 500) { nextCursor } }',
      },
    ];
    for (const { rest: viaRest, query, token } of cases) {
      const expected = (await viaRest()) as { status: number; body: { type: string } };
      expect(expected.status).toBeGreaterThanOrEqual(400);
      const result = await graphql(query, token ? { token } : {});
      expect(result.errors?.[0]?.extensions, query).toMatchObject({
        code: restCode(expected.body),
        type: expected.body.type,
        status: expected.status,
      });
    }
  });

  it('answers a reused idempotency key with another input as REST does', async () => {
    const product = await createProductWithStock(shop, adminToken, { sku: 'GQL-KEY', stock: 5 });
    const key = randomUUID();
    const order = (quantity: number) =>
      graphql(
        `mutation($key: String!) { placeOrder(input: { items: [{ productId: "${product.id}", quantity: ${quantity} }], paymentMethod: "pm_card_visa" }, idempotencyKey: $key) { id } }`,
        { variables: { key }, token: customerToken },
      );
    expect((await order(1)).errors).toBeUndefined();
    const reused = await order(2);
    const viaRest = await shop.send('POST', '/api/v1/orders', {
      token: customerToken,
      body: { items: [{ productId: product.id, quantity: 3 }], paymentMethod: 'pm_card_visa' },
      headers: { 'idempotency-key': key },
    });
    expect(viaRest.status).toBe(422);
    const problem = (await viaRest.json()) as { type: string };
    expect(reused.errors?.[0]?.extensions).toMatchObject({
      code: restCode(problem),
      type: problem.type,
      status: 422,
    });
  });
});

describe('account, catalog and cart operations', () => {
  const userFields = 'id email name role status emailVerified createdAt';

  it('creates, changes and deletes a product as an admin; a customer is forbidden', async () => {
    const input = { sku: 'GQL-ADMIN-1', name: 'GraphQL lamp', category: 'gql', price: 1_500 };
    const created = await graphql<{ createProduct: { id: string } }>(
      `mutation($input: NewProductInput!) { createProduct(input: $input) { ${productFields} } }`,
      { variables: { input: { ...input, currency: 'USD', stock: 4 } }, token: adminToken },
    );
    expect(created.errors).toBeUndefined();
    const id = created.data?.createProduct.id ?? '';
    expect(created.data?.createProduct).toMatchObject({ ...input, currency: 'USD' });
    const updated = await graphql<{ updateProduct: { price: number } }>(
      `mutation($id: ID!) { updateProduct(id: $id, input: { price: 1700, name: null }) { ${productFields} } }`,
      { variables: { id }, token: adminToken },
    );
    expect(updated.errors).toBeUndefined();
    const { available, updatedAt, ...readByRest } = await restOk<Record<string, unknown>>(
      'GET',
      `/api/v1/products/${id}`,
    );
    expect(updated.data?.updateProduct).toMatchObject({ ...readByRest, price: 1_700 });

    const forbidden = [
      `mutation { createProduct(input: { sku: "GQL-NO", name: "n", category: "c", price: 1, currency: "USD" }) { id } }`,
      `mutation { updateProduct(id: "${id}", input: { price: 1 }) { id } }`,
      `mutation { deleteProduct(id: "${id}") }`,
    ];
    for (const query of forbidden) {
      const refused = await graphql(query, { token: customerToken });
      expect(refused.errors?.[0]?.extensions, query).toMatchObject({
        code: 'forbidden',
        status: 403,
      });
    }
    expect((await rest('DELETE', `/api/v1/products/${id}`, customerToken)).status).toBe(403);

    const deleted = await graphql('mutation($id: ID!) { deleteProduct(id: $id) }', {
      variables: { id },
      token: adminToken,
    });
    expect(deleted).toEqual({ data: { deleteProduct: true } });
    expect((await rest('GET', `/api/v1/products/${id}`)).status).toBe(404);
  });

  it('registers with createUser and renames the caller with updateMe', async () => {
    const account = {
      email: 'graphql-new@example.com',
      password: 'graphql new password',
      name: 'New',
    };
    const created = await graphql<{ createUser: Record<string, unknown> }>(
      `mutation($email: String!, $password: String!, $name: String!) {
        createUser(email: $email, password: $password, name: $name) { ${userFields} }
      }`,
      { variables: account },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createUser).toMatchObject({
      email: account.email,
      role: 'customer',
      status: 'active',
      emailVerified: false,
    });
    const again = await graphql(
      'mutation { createUser(email: "graphql-new@example.com", password: "graphql new password", name: "N") { id } }',
    );
    expect(again.errors?.[0]?.extensions.code).toBe('conflict');

    const token = await shop.login(account.email, account.password);
    const renamed = await graphql<{ updateMe: Record<string, unknown> }>(
      `mutation { updateMe(name: "Renamed") { ${userFields} } }`,
      { token },
    );
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data?.updateMe).toEqual(await restOk('GET', '/api/v1/users/me', token));
    expect(renamed.data?.updateMe.name).toBe('Renamed');
  });

  it('lists, reads and changes accounts as an admin; a customer is forbidden', async () => {
    const q = 'graphql-shopper';
    const page = await graphql<{ users: unknown }>(
      `query($q: String!) { users(q: $q, role: customer, status: active, first: 10) { items { ${userFields} } nextCursor } }`,
      { variables: { q }, token: adminToken },
    );
    expect(page.errors).toBeUndefined();
    const byRest = await restOk<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/admin/users?q=${q}&role=customer&status=active&limit=10`,
      adminToken,
    );
    expect(byRest.items).toHaveLength(1);
    expect(page.data?.users).toEqual(byRest);
    const id = byRest.items[0]?.id ?? '';
    const one = await graphql<{ user: unknown }>(`{ user(id: "${id}") { ${userFields} } }`, {
      token: adminToken,
    });
    expect(one.data?.user).toEqual(await restOk('GET', `/api/v1/admin/users/${id}`, adminToken));

    // A demotion ends the account's sessions, so the role changes on an account of its own.
    const account = { email: 'graphql-role@example.com', password: 'graphql role password' };
    const registered = await restOk<{ id: string }>('POST', '/api/v1/auth/register', undefined, {
      ...account,
      name: 'R',
    });
    const promoted = await graphql<{ updateUser: { role: string } }>(
      `mutation { updateUser(id: "${registered.id}", role: admin) { ${userFields} } }`,
      { token: adminToken },
    );
    expect(promoted.data?.updateUser.role).toBe('admin');
    const promotedToken = await shop.login(account.email, account.password);
    const demoted = await graphql<{ updateUser: unknown }>(
      `mutation { updateUser(id: "${registered.id}", role: customer, status: null) { ${userFields} } }`,
      { token: adminToken },
    );
    expect(demoted.data?.updateUser).toEqual(
      await restOk('GET', `/api/v1/admin/users/${registered.id}`, adminToken),
    );
    await pollUntil(
      async () =>
        (await rest('GET', '/api/v1/admin/users', promotedToken)).status === 401 ? true : undefined,
      { what: 'the demoted admin’s token refused', timeoutMs: 5_000 },
    );

    for (const query of [
      '{ users { items { id } } }',
      `{ user(id: "${id}") { id } }`,
      `mutation { updateUser(id: "${id}", status: disabled) { id } }`,
    ]) {
      const refused = await graphql(query, { token: customerToken });
      expect(refused.errors?.[0]?.extensions, query).toMatchObject({
        code: 'forbidden',
        status: 403,
      });
    }
  });

  it("changes the password: a fresh login, the old session's token refused within 5 s", async () => {
    const account = {
      email: 'graphql-pw@example.com',
      password: 'graphql old password',
      name: 'P',
    };
    await restOk('POST', '/api/v1/auth/register', undefined, account);
    const oldToken = await shop.login(account.email, account.password);
    const wrong = await graphql(
      'mutation { changePassword(currentPassword: "not the password", newPassword: "graphql new password") { accessToken } }',
      { token: oldToken },
    );
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', status: 403 });

    const changed = await graphql<{
      changePassword: {
        accessToken: string;
        refreshToken: string;
        tokenType: string;
        expiresIn: number;
      };
    }>(
      `mutation($old: String!) { changePassword(currentPassword: $old, newPassword: "graphql new password") {
        accessToken refreshToken tokenType expiresIn } }`,
      { variables: { old: account.password }, token: oldToken },
    );
    expect(changed.errors).toBeUndefined();
    const pair = changed.data?.changePassword;
    expect(pair?.tokenType).toBe('Bearer');
    // Refused before any resolver runs: 401 problem+json, as REST answers it.
    const graphqlStatus = async (token: string) => {
      const res = await shop.send('POST', '/graphql', { body: { query: '{ me { id } }' }, token });
      await res.body?.cancel();
      return res.status;
    };
    await pollUntil(async () => ((await graphqlStatus(oldToken)) === 401 ? true : undefined), {
      what: 'the old session’s token refused',
      timeoutMs: 5_000,
    });
    expect((await rest('GET', '/api/v1/users/me', oldToken)).status).toBe(401);
    const me = await graphql<{ me: { email: string } }>('{ me { email } }', {
      token: pair?.accessToken ?? '',
    });
    expect(me.data?.me.email).toBe(account.email);
    await shop.login(account.email, 'graphql new password');
  });

  it('fills and checks out the cart as REST does', async () => {
    const shopper = {
      email: 'graphql-cart@example.com',
      password: 'graphql cart password',
      name: 'C',
    };
    await restOk('POST', '/api/v1/auth/register', undefined, shopper);
    const token = await shop.login(shopper.email, shopper.password);
    const [lamp, desk] = await Promise.all(
      ['LAMP', 'DESK'].map((kind) =>
        createProductWithStock(shop, adminToken, { sku: `GQL-CART-${kind}`, stock: 5 }),
      ),
    );
    if (!lamp || !desk) throw new Error('no products');
    const cartFields = 'items { productId name quantity unitPrice available } total currency';

    const set = (productId: string, quantity: number) =>
      graphql<{ setCartItem: unknown }>(
        `mutation($id: ID!, $n: Int!) { setCartItem(productId: $id, quantity: $n) { ${cartFields} } }`,
        { variables: { id: productId, n: quantity }, token },
      );
    expect((await set(lamp.id, 2)).errors).toBeUndefined();
    const both = await set(desk.id, 1);
    expect(both.data?.setCartItem).toEqual(await restOk('GET', '/api/v1/cart', token));
    const removed = await graphql<{ removeCartItem: { items: Array<{ productId: string }> } }>(
      `mutation { removeCartItem(productId: "${desk.id}") { ${cartFields} } }`,
      { token },
    );
    expect(removed.data?.removeCartItem.items.map((item) => item.productId)).toEqual([lamp.id]);
    const read = await graphql<{ cart: { total: number } }>(`{ cart { ${cartFields} } }`, {
      token,
    });
    expect(read.data?.cart).toEqual(await restOk('GET', '/api/v1/cart', token));
    expect(read.data?.cart.total).toBe(2 * lamp.price);
    const unknown = await set(randomUUID(), 1);
    expect(unknown.errors?.[0]?.extensions.code).toBe('not_found');

    const checkout = `mutation($key: String!) { checkoutCart(paymentMethod: "pm_card_visa", idempotencyKey: $key) { ${orderFields} } }`;
    const key = randomUUID();
    const placed = await graphql<{ checkoutCart: { id: string; status: string; total: number } }>(
      checkout,
      { variables: { key }, token },
    );
    expect(placed.errors).toBeUndefined();
    expect(placed.data?.checkoutCart).toMatchObject({ status: 'pending', total: 2 * lamp.price });
    const replay = await graphql<{ checkoutCart: { id: string } }>(checkout, {
      variables: { key },
      token,
    });
    expect(replay.data?.checkoutCart.id).toBe(placed.data?.checkoutCart.id);
    expect(await restOk('GET', '/api/v1/cart', token)).toMatchObject({ items: [], total: 0 });
    const empty = await graphql(checkout, { variables: { key: randomUUID() }, token });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'conflict', status: 409 });
    await waitForSettled(shop, token, placed.data?.checkoutCart.id ?? '');
  }, 60_000);
});

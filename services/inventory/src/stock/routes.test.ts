import { randomUUID } from 'node:crypto';
import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { orderCreated, productCreated, productDeleted, useInventoryApp } from '../test-support.ts';

describe.each(databaseBackends)('stock routes on %s', (backend) => {
  const inventory = useInventoryApp(backend);
  const ctx = { inventory, ...stockHelpers(inventory) };

  readAndRestockCases(ctx);
  setAndConflictCases(ctx);
  invalidInputCases(ctx);
  accessAndDeletedCases(ctx);
});

type InventoryApp = ReturnType<typeof useInventoryApp>;
type Ctx = { inventory: InventoryApp } & ReturnType<typeof stockHelpers>;

/** Stock reads and writes as an admin makes them, on products created for the case. */
function stockHelpers(inventory: InventoryApp) {
  const stockPath = (productId: string) => `/api/v1/products/${productId}/stock`;
  const getStock = async (productId: string, token?: string) =>
    inventory.call('GET', stockPath(productId), { token: token ?? (await inventory.adminToken()) });
  const putStock = async (
    productId: string,
    body: unknown,
    options: { token?: string; ifMatch?: string } = {},
  ) =>
    inventory.call('PUT', stockPath(productId), {
      body,
      token: options.token ?? (await inventory.adminToken()),
      ...(options.ifMatch ? { headers: { 'if-match': options.ifMatch } } : {}),
    });
  const newProduct = async (initialStock: number) => {
    const productId = randomUUID();
    expect(await inventory.deliver(productCreated(productId, initialStock))).toBe('SUCCESS');
    return productId;
  };
  return { stockPath, getStock, putStock, newProduct };
}

function readAndRestockCases({ inventory, getStock, putStock, newProduct }: Ctx) {
  it('shows an admin the stock with its version as ETag', async () => {
    const productId = await newProduct(10);
    const res = await getStock(productId);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(await res.json()).toEqual({
      productId,
      available: 10,
      reserved: 0,
      sold: 0,
      version: 1,
    });
  });

  it('records a raise as a restock and a cut as an adjustment, each by the admin, each a new version', async () => {
    const productId = await newProduct(10);
    const adminId = randomUUID();
    const token = await inventory.adminToken(adminId);
    const raised = await putStock(productId, { available: 15 }, { token });
    expect(raised.status).toBe(200);
    expect(raised.headers.get('etag')).toBe('"2"');
    expect(await raised.json()).toEqual({
      productId,
      available: 15,
      reserved: 0,
      sold: 0,
      version: 2,
    });
    const cut = await putStock(productId, { available: 12 }, { token, ifMatch: '"2"' });
    expect(cut.status).toBe(200);
    expect(((await cut.json()) as { version: number }).version).toBe(3);

    expect((await inventory.movementsOf(productId)).slice(1)).toEqual([
      expect.objectContaining({
        reason: 'restock',
        actor: adminId,
        available_delta: 5,
        version: 2,
      }),
      expect.objectContaining({
        reason: 'adjustment',
        actor: adminId,
        available_delta: -3,
        version: 3,
      }),
    ]);
    const changes = (await inventory.publishedAfterDrain()).filter(
      (e) => e.type === 'stock.changed' && e.data.productId === productId,
    );
    expect(
      changes.map((e) => e.type === 'stock.changed' && [e.data.version, e.data.available]),
    ).toEqual([
      [1, 10],
      [2, 15],
      [3, 12],
    ]);
  });
}

function setAndConflictCases({ inventory, putStock, newProduct }: Ctx) {
  it('sets only available: reserved units stay reserved', async () => {
    const productId = await newProduct(10);
    await inventory.deliver(orderCreated(randomUUID(), [{ productId, quantity: 4 }]));
    const res = await putStock(productId, { available: 20 });
    expect(await res.json()).toMatchObject({ available: 20, reserved: 4, sold: 0, version: 3 });
  });

  it('records nothing when the count is already what is asked', async () => {
    const productId = await newProduct(7);
    const res = await putStock(productId, { available: 7 });
    expect(await res.json()).toMatchObject({ available: 7, version: 1 });
    expect(await inventory.movementsOf(productId)).toHaveLength(1);
  });

  it('answers 412 when If-Match names another version, and writes nothing', async () => {
    const productId = await newProduct(10);
    const res = await putStock(productId, { available: 3 }, { ifMatch: '"7"' });
    expect(res.status).toBe(412);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await inventory.stockOf(productId)).toEqual({
      available: 10,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    expect(await inventory.movementsOf(productId)).toHaveLength(1);
    // `*` and a list naming the current tag both match.
    expect((await putStock(productId, { available: 3 }, { ifMatch: '*' })).status).toBe(200);
    expect((await putStock(productId, { available: 4 }, { ifMatch: '"1", "2"' })).status).toBe(200);
  });
}

function invalidInputCases({ inventory, stockPath, getStock, putStock, newProduct }: Ctx) {
  it.each([[{ available: -1 }], [{ available: 1.5 }], [{ available: '5' }], [{}]])(
    'refuses %o with 400 naming available, and writes nothing',
    async (body) => {
      const productId = await newProduct(10);
      const res = await putStock(productId, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain('available');
      expect(await inventory.stockOf(productId)).toMatchObject({ available: 10, version: 1 });
    },
  );

  it('refuses an empty or malformed JSON body from an admin with 400', async () => {
    const productId = await newProduct(10);
    const res = await inventory.call('PUT', stockPath(productId), {
      token: await inventory.adminToken(),
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    expect(res.status).toBe(400);
    const raw = await inventory.get().app.request(stockPath(productId), {
      method: 'PUT',
      headers: {
        'dapr-api-token': inventory.appApiToken,
        'dapr-caller-app-id': 'gateway',
        authorization: `Bearer ${await inventory.adminToken()}`,
        'content-type': 'application/json',
      },
      body: '{"available": ',
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 404 for a product it keeps no stock for, and 400 for an id that is no product id', async () => {
    expect((await getStock(randomUUID())).status).toBe(404);
    expect((await putStock(randomUUID(), { available: 1 })).status).toBe(404);
    expect((await getStock('not-a-uuid')).status).toBe(400);
  });
}

function accessAndDeletedCases({ inventory, stockPath, getStock, putStock, newProduct }: Ctx) {
  it('lets only admins in: a customer gets 403, no token 401, and nothing is written', async () => {
    const productId = await newProduct(10);
    const customer = await inventory.customerToken();
    const read = await getStock(productId, customer);
    expect(read.status).toBe(403);
    expect(read.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((await putStock(productId, { available: 0 }, { token: customer })).status).toBe(403);
    expect((await inventory.call('GET', stockPath(productId))).status).toBe(401);
    expect(await inventory.stockOf(productId)).toMatchObject({ available: 10, version: 1 });
  });

  it('answers 409 for a deleted product’s stock, which can still be read', async () => {
    const productId = await newProduct(10);
    await inventory.deliver(productDeleted(productId));
    expect((await putStock(productId, { available: 50 })).status).toBe(409);
    expect(await (await getStock(productId)).json()).toMatchObject({ available: 10, version: 1 });
  });
}

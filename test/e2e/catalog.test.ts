import { pollUntil } from '@shop/devkit/process';
import { eventFixture, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The catalog behind the gateway and real sidecars: its database on the test shop's
// PostgreSQL, its read cache in the shop's Redis through Dapr's state API, and stock
// levels arriving as events through the broker. Inventory is not needed: this test
// publishes the stock.changed events inventory would.
let shop: TestShop;
let adminToken: string;
let customerToken: string;
const admin = { email: 'catalog-admin@example.com', password: 'catalog admin password' };
const customer = { email: 'catalog-shopper@example.com', password: 'correct horse battery' };

type Product = { id: string; name: string; price: number; available: number; category: string };

const json = (method: string, body: unknown, token?: string): RequestInit => ({
  method,
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  shop = await startTestShop({
    // Every answer through the gateway must match its merged OpenAPI document.
    checkOpenApi: true,
    apps: ['gateway', 'users', 'catalog'],
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
  const registered = await shop.gateway(
    '/api/v1/auth/register',
    json('POST', { ...customer, name: 'Shopper' }),
  );
  expect(registered.status).toBe(201);
  customerToken = await shop.login(customer.email, customer.password);
});

afterAll(async () => {
  await shop?.stop();
});

let skus = 0;
async function createProduct(
  fields: Partial<Product> & { description?: string; stock?: number } = {},
) {
  const body = {
    sku: `E2E-${++skus}`,
    name: `Desk Lamp ${skus}`,
    category: 'lighting',
    price: 4_500,
    currency: 'USD',
    stock: 2,
    ...fields,
  };
  const res = await shop.gateway('/api/v1/products', json('POST', body, adminToken));
  expect(res.status).toBe(201);
  return (await res.json()) as Product;
}

const read = async (id: string) => {
  const res = await shop.gateway(`/api/v1/products/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Product;
};

const stockChanged = (productId: string, available: number, version: number) =>
  eventFixture('stock.changed', { productId, available, reserved: 0, sold: 0, version });

const cacheLookups = async (outcome: 'hit' | 'miss') => {
  const port = shop.apps.catalog?.metricsPort;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = new RegExp(
    `catalog_product_cache_lookups_total\\{outcome="${outcome}"[^}]*\\} (\\d+)`,
  );
  return Number(line.exec(text)?.[1] ?? 0);
};

describe('the catalog through the gateway and sidecars', () => {
  it('lets an admin create a product that anyone then reads, with an ETag; a customer may not create', async () => {
    const product = await createProduct({ name: 'Brass Desk Lamp' });
    expect(product).toMatchObject({ name: 'Brass Desk Lamp', available: 2, price: 4_500 });
    const res = await shop.gateway(`/api/v1/products/${product.id}`);
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag') as string;
    const unchanged = await shop.gateway(`/api/v1/products/${product.id}`, {
      headers: { 'if-none-match': etag },
    });
    expect(unchanged.status).toBe(304);
    const refused = await shop.gateway(
      '/api/v1/products',
      json(
        'POST',
        { sku: 'E2E-X', name: 'X', category: 'x', price: 1, currency: 'USD' },
        customerToken,
      ),
    );
    expect(refused.status).toBe(403);
  });

  it('serves repeated reads from the state store', async () => {
    const product = await createProduct();
    const hitsBefore = await cacheLookups('hit');
    await read(product.id);
    await read(product.id);
    await read(product.id);
    expect(await cacheLookups('hit')).toBeGreaterThanOrEqual(hitsBefore + 2);
  });

  it('never serves the old product after a PATCH returned, with the cache warm', async () => {
    const product = await createProduct({ price: 1_000 });
    for (let round = 1; round <= 5; round++) {
      await read(product.id);
      await read(product.id);
      const price = 1_000 + round;
      const res = await shop.gateway(
        `/api/v1/products/${product.id}`,
        json('PATCH', { price }, adminToken),
      );
      expect(res.status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await read(product.id)).price).toBe(price);
    }
  });

  it('copies stock levels from stock.changed events, ignoring an older version', async () => {
    const product = await createProduct({ stock: 0 });
    await read(product.id);
    await shop.publish(stockChanged(product.id, 7, 2), 'catalog');
    await pollUntil(async () => ((await read(product.id)).available === 7 ? true : undefined), {
      what: 'the stock level to reach the product',
      timeoutMs: 20_000,
    });
    const older = stockChanged(product.id, 1, 1);
    await shop.publish(older, 'catalog');
    await pollUntil(async () => (shop.log('catalog').includes(older.id) ? true : undefined), {
      what: 'catalog to handle the older stock event',
      timeoutMs: 20_000,
    });
    expect((await read(product.id)).available).toBe(7);
    const listed = await shop.gateway(`/api/v1/products?category=lighting&inStock=true&limit=100`);
    const ids = ((await listed.json()) as { items: Product[] }).items.map((p) => p.id);
    expect(ids).toContain(product.id);
  });

  it('searches, counts categories, and keeps wishlists, through the gateway', async () => {
    const product = await createProduct({
      name: 'Running Shoe',
      category: 'footwear',
      description: 'Light.',
    });
    const found = await shop.gateway('/api/v1/products?q=runn');
    expect(((await found.json()) as { items: Product[] }).items.map((p) => p.id)).toContain(
      product.id,
    );
    const categories = await shop.gateway('/api/v1/categories');
    expect(await categories.json()).toMatchObject({
      items: expect.arrayContaining([{ name: 'footwear', productCount: 1 }]),
    });
    const auth = { authorization: `Bearer ${customerToken}` };
    const put = await shop.gateway(`/api/v1/wishlist/${product.id}`, {
      method: 'PUT',
      headers: auth,
    });
    expect(put.status).toBe(204);
    const wishlist = await shop.gateway('/api/v1/wishlist', { headers: auth });
    expect(((await wishlist.json()) as { items: Product[] }).items.map((p) => p.id)).toEqual([
      product.id,
    ]);
    const deleted = await shop.gateway(`/api/v1/products/${product.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(deleted.status).toBe(204);
    expect((await shop.gateway(`/api/v1/products/${product.id}`)).status).toBe(404);
    const emptied = await shop.gateway('/api/v1/wishlist', { headers: auth });
    expect(((await emptied.json()) as { items: Product[] }).items).toEqual([]);
  });

  it('answers the batch read to apps through Dapr, never through the gateway', async () => {
    const product = await createProduct();
    const body = JSON.stringify({ ids: [product.id] });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    const viaDapr = await shop.invoke('catalog', '/internal/products/batch', init);
    expect(viaDapr.status).toBe(200);
    expect(await viaDapr.json()).toMatchObject({ items: [{ id: product.id }], missing: [] });
    // The gateway keeps /internal/ for Dapr callers of its own and forwards none of it.
    expect((await shop.gateway('/internal/products/batch', init)).status).toBe(401);
  });
});

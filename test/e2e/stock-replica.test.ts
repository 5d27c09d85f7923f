import { pollUntil } from '@shop/devkit/process';
import { eventFixture, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Catalog and inventory together, each beside its own sidecar, talking only through the
// broker: a product's stock is opened by product.created, and the catalog's `available`
// follows inventory's stock.changed, whether an admin sets the stock or an order reserves it.
let shop: TestShop;
let adminToken: string;
const admin = { email: 'stock-admin@example.com', password: 'stock admin password' };

type Product = { id: string; available: number };
type Stock = {
  productId: string;
  available: number;
  reserved: number;
  sold: number;
  version: number;
};

beforeAll(async () => {
  shop = await startTestShop({
    // Every answer through the gateway must match its merged OpenAPI document.
    checkOpenApi: true,
    apps: ['gateway', 'users', 'catalog', 'inventory'],
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
});

afterAll(async () => {
  await shop?.stop();
});

let skus = 0;
async function createProduct(stock: number): Promise<Product> {
  const res = await shop.send('POST', '/api/v1/products', {
    token: adminToken,
    body: {
      sku: `REPLICA-${++skus}`,
      name: `Trail Shoe ${skus}`,
      category: 'shoes',
      price: 9_900,
      currency: 'USD',
      stock,
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Product;
}

const availableInCatalog = async (id: string, expected: number) =>
  pollUntil(
    async () => {
      const res = await shop.send('GET', `/api/v1/products/${id}`);
      const product = (await res.json()) as Product;
      return product.available === expected ? product : undefined;
    },
    { what: `catalog to show ${expected} available`, timeoutMs: 20_000 },
  );

const stockOf = async (id: string): Promise<Stock & { etag: string | null }> => {
  const res = await shop.send('GET', `/api/v1/products/${id}/stock`, { token: adminToken });
  expect(res.status).toBe(200);
  return { ...((await res.json()) as Stock), etag: res.headers.get('etag') };
};

describe('stock between catalog and inventory', () => {
  it('opens a product’s stock in inventory from its creation in the catalog', async () => {
    const product = await createProduct(5);
    const stock = await pollUntil(
      async () => {
        const res = await shop.send('GET', `/api/v1/products/${product.id}/stock`, {
          token: adminToken,
        });
        return res.status === 200 ? ((await res.json()) as Stock) : undefined;
      },
      { what: `inventory to open the stock of ${product.id}`, timeoutMs: 20_000 },
    );
    expect(stock).toMatchObject({
      productId: product.id,
      available: 5,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    await availableInCatalog(product.id, 5);
  });

  it('shows a restock by an admin in the catalog', async () => {
    const product = await createProduct(1);
    await availableInCatalog(product.id, 1);
    const before = await pollUntil(async () => (await stockOf(product.id)).etag ?? undefined, {
      what: `an ETag on the stock of ${product.id}`,
      timeoutMs: 20_000,
    });
    const res = await shop.send('PUT', `/api/v1/products/${product.id}/stock`, {
      token: adminToken,
      body: { available: 40 },
      headers: { 'if-match': before },
    });
    expect(res.status).toBe(200);
    await availableInCatalog(product.id, 40);
  });

  it('shows what an order reserves, and gives it back when the order is cancelled', async () => {
    const product = await createProduct(3);
    await availableInCatalog(product.id, 3);
    const orderId = crypto.randomUUID();
    const line = { productId: product.id, quantity: 2, unitPrice: 9_900 };
    await shop.publish(
      eventFixture('order.created', {
        orderId,
        userId: 'replica-shopper',
        items: [line],
        total: 19_800,
        paymentMethod: 'pm_card_visa',
      }),
      'gateway',
    );
    await availableInCatalog(product.id, 1);
    expect(await stockOf(product.id)).toMatchObject({ available: 1, reserved: 2, sold: 0 });

    await shop.publish(
      eventFixture('order.cancelled', {
        orderId,
        userId: 'replica-shopper',
        reason: 'expired',
      }),
      'gateway',
    );
    await availableInCatalog(product.id, 3);
    expect(await stockOf(product.id)).toMatchObject({ available: 3, reserved: 0, sold: 0 });
  });

  it('takes no reservation for a deleted product', async () => {
    const product = await createProduct(10);
    await availableInCatalog(product.id, 10);
    expect(
      (await shop.send('DELETE', `/api/v1/products/${product.id}`, { token: adminToken })).status,
    ).toBe(204);
    expect((await shop.send('GET', `/api/v1/products/${product.id}`)).status).toBe(404);
    const order = eventFixture('order.created', {
      orderId: crypto.randomUUID(),
      userId: 'replica-shopper',
      items: [{ productId: product.id, quantity: 1, unitPrice: 9_900 }],
      total: 9_900,
      paymentMethod: 'pm_card_visa',
    });
    await shop.publish(order, 'gateway');
    await pollUntil(async () => (handledByInventory(order.id) ? true : undefined), {
      what: 'inventory to handle the order',
      timeoutMs: 20_000,
    });
    expect(await stockOf(product.id)).toMatchObject({ reserved: 0, available: 10 });
  });
});

/** Whether inventory has answered SUCCESS for the event (its consumer logs each outcome). */
function handledByInventory(eventId: string): boolean {
  return shop
    .log('inventory')
    .split('\n')
    .some(
      (line) =>
        line.includes('"event handled"') && line.includes(eventId) && line.includes('SUCCESS'),
    );
}

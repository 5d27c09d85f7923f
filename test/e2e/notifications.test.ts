import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createProductWithStock,
  placeOrder,
  readJson,
  startTestShop,
  type TestShop,
  waitForSettled,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Notifications through the gateway, fed by the real services' events through the broker,
// stored in the shop's private FerretDB; the wishlist audience read from the real catalog.
type Notification = {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  readAt: string | null;
};
type Page = { items: Notification[]; nextCursor: string | null };

let shop: TestShop;
let adminToken: string;
const admin = { email: 'notify-admin@example.com', password: 'admin password 0123' };
const password = 'customer password 0123';

beforeAll(async () => {
  shop = await startTestShop({
    checkOpenApi: true,
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

async function registered(name: string): Promise<{ id: string; token: string }> {
  const email = `${name}-${randomUUID()}@example.com`;
  const res = await shop.send('POST', '/api/v1/auth/register', {
    body: { email, password, name },
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  return { id, token: await shop.login(email, password) };
}

const inbox = (token: string) => readJson<Page>(shop, '/api/v1/notifications', token);

/** The caller's notification of `type` (and matching `where`), once it has arrived. */
const arrived = (token: string, type: string, where: (n: Notification) => boolean = () => true) =>
  pollUntil(async () => (await inbox(token)).items.find((n) => n.type === type && where(n)), {
    timeoutMs: 30_000,
    what: `a ${type} notification`,
  });

describe('notifications', () => {
  it('welcomes a new user in the inbox, counts it unread until it is read', async () => {
    const ada = await registered('Ada');
    const welcome = await arrived(ada.token, 'welcome');
    expect(welcome).toMatchObject({ title: 'Welcome to Shop, Ada', readAt: null });
    expect(await readJson(shop, '/api/v1/notifications/unread-count', ada.token)).toEqual({
      unread: 1,
    });
    const other = await registered('Mallory');
    const foreign = await shop.send('POST', `/api/v1/notifications/${welcome.id}/read`, {
      token: other.token,
    });
    expect(foreign.status).toBe(404);
    const read = await shop.send('POST', `/api/v1/notifications/${welcome.id}/read`, {
      token: ada.token,
    });
    expect(read.status).toBe(204);
    expect(await readJson(shop, '/api/v1/notifications/unread-count', ada.token)).toEqual({
      unread: 0,
    });
  });

  it('tells the customer their order is confirmed after a full checkout', async () => {
    const bo = await registered('Bo');
    const product = await createProductWithStock(shop, adminToken, {
      sku: `NOTIFY-${randomUUID().slice(0, 8)}`,
      stock: 3,
      price: 1_250,
    });
    const { order } = await placeOrder(shop, bo.token, {
      items: [{ productId: product.id, quantity: 2 }],
      paymentMethod: 'pm_card_visa',
    });
    expect((await waitForSettled(shop, bo.token, order.id)).status).toBe('confirmed');
    const confirmed = await arrived(
      bo.token,
      'order_confirmed',
      (n) => n.data.orderId === order.id,
    );
    expect(confirmed).toMatchObject({
      title: 'Order confirmed',
      body: 'Your order of $25.00 is confirmed.',
    });
    expect((await inbox(bo.token)).items.filter((n) => n.type === 'order_confirmed')).toHaveLength(
      1,
    );
  });

  it('tells exactly the wishlisters of a product of its price drop, and honours preferences', async () => {
    const product = await createProductWithStock(shop, adminToken, {
      sku: `DROP-${randomUUID().slice(0, 8)}`,
      stock: 5,
      price: 4_000,
      name: 'Lamp',
    });
    const [cy, dee, quiet, bystander] = await Promise.all(
      ['Cy', 'Dee', 'Quiet', 'Bystander'].map(registered),
    );
    for (const user of [cy, dee, quiet]) {
      const res = await shop.send('PUT', `/api/v1/wishlist/${product?.id}`, { token: user?.token });
      expect(res.status).toBe(204);
    }
    // Their welcomes first, so that the inboxes compared below hold nothing still in flight.
    for (const user of [cy, dee, quiet, bystander]) await arrived(user?.token ?? '', 'welcome');
    const muted = await shop.send('PUT', '/api/v1/notifications/preferences', {
      token: quiet?.token,
      body: { price_drop: { inApp: false, email: false } },
    });
    expect(muted.status).toBe(200);
    const patched = await shop.send('PATCH', `/api/v1/products/${product.id}`, {
      token: adminToken,
      body: { price: 3_000 },
    });
    expect(patched.status).toBe(200);
    for (const user of [cy, dee]) {
      const drop = await arrived(user?.token ?? '', 'price_drop');
      expect(drop).toMatchObject({
        title: 'Price drop: Lamp',
        body: 'Lamp now costs $30.00 (was $40.00).',
        data: { productId: product.id },
      });
    }
    // Cy's and Dee's arrived from the same page of the audience as Quiet's would have.
    for (const user of [quiet, bystander]) {
      expect((await inbox(user?.token ?? '')).items.map((n) => n.type)).toEqual(['welcome']);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  adminOrders,
  createProductWithStock,
  placeOrder,
  readJson,
  startTestShop,
  type TestShop,
  waitForSettled,
} from '@shop/devkit/testing';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A customer deletes the account through the gateway; users publishes user.deleted through
// the broker, and catalog, notifications and cart erase what they hold, read here in each
// service's own store. Orders keep theirs.
let shop: TestShop;
let adminToken: string;
let catalogDb: pg.Client;
let mongo: MongoClient;
const admin = { email: 'erase-admin@example.com', password: 'admin password 0123' };
const password = 'customer password 0123';

beforeAll(async () => {
  shop = await startTestShop({
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
  if (!shop.postgres || !shop.ferretdb) throw new Error('the shop runs no PostgreSQL or FerretDB');
  catalogDb = new pg.Client({ connectionString: shop.postgres.url('catalog') });
  await catalogDb.connect();
  mongo = new MongoClient(shop.ferretdb.url('notifications'));
}, 240_000);

afterAll(async () => {
  await catalogDb?.end();
  await mongo?.close();
  await shop?.stop();
});

type Customer = { id: string; token: string };

async function registered(name: string): Promise<Customer> {
  const email = `${name}-${randomUUID()}@example.com`;
  const res = await shop.send('POST', '/api/v1/auth/register', {
    body: { email, password, name },
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  return { id, token: await shop.login(email, password) };
}

type Inbox = { items: Array<{ type: string }> };

/** A wishlist entry, preferences, inbox notifications, a cart line and a settled order. */
async function shopping(customer: Customer, productId: string) {
  const { token } = customer;
  expect((await shop.send('PUT', `/api/v1/wishlist/${productId}`, { token })).status).toBe(204);
  const preferences = await shop.send('PUT', '/api/v1/notifications/preferences', {
    token,
    body: { price_drop: { inApp: true, email: false } },
  });
  expect(preferences.status).toBe(200);
  const cart = await shop.send('PUT', `/api/v1/cart/items/${productId}`, {
    token,
    body: { quantity: 2 },
  });
  expect(cart.status).toBe(200);
  const { order } = await placeOrder(shop, token, {
    items: [{ productId, quantity: 1 }],
    paymentMethod: 'pm_card_visa',
  });
  await waitForSettled(shop, token, order.id);
  await pollUntil(
    async () => {
      const { items } = await readJson<Inbox>(shop, '/api/v1/notifications', token);
      const types = new Set(items.map((n) => n.type));
      return types.has('welcome') && types.has('order_confirmed') ? types : undefined;
    },
    { timeoutMs: 30_000, what: 'the welcome and the order confirmation in the inbox' },
  );
  return order.id;
}

/** What each service's own store holds about the user, counted there. */
async function heldAbout(userId: string) {
  const wishlist = await catalogDb.query('select 1 from wishlist_items where user_id = $1', [
    userId,
  ]);
  const notifications = mongo.db();
  const byId = (name: string) => notifications.collection<{ _id: string }>(name);
  const cartApp = shop.apps.cart;
  if (!cartApp) throw new Error('the shop runs no cart');
  // The cart's own state store (cart's STATE_STORE_NAME), read through its sidecar.
  const cart = await fetch(
    `http://127.0.0.1:${cartApp.daprHttpPort}/v1.0/state/cartstore/cart:${userId}`,
    { headers: { 'dapr-api-token': cartApp.daprApiToken } },
  );
  if (!cart.ok) throw new Error(`cart state: ${cart.status}`);
  return {
    wishlist: wishlist.rowCount ?? 0,
    inbox: await notifications.collection('notifications').countDocuments({ userId }),
    preferences: await byId('preferences').countDocuments({ _id: userId }),
    recipient: await byId('recipients').countDocuments({ _id: userId }),
    // Dapr answers 204 for a key it does not hold.
    cart: cart.status === 200 ? 1 : 0,
  };
}

const nothing = { wishlist: 0, inbox: 0, preferences: 0, recipient: 0, cart: 0 };

describe('deleting an account', () => {
  it('erases the wishlist, inbox, preferences and cart everywhere; orders stay', async () => {
    const product = await createProductWithStock(shop, adminToken, {
      sku: `ERASE-${randomUUID().slice(0, 8)}`,
      stock: 10,
    });
    const [leaving, staying] = [await registered('Erin'), await registered('Kim')];
    const leavingOrder = await shopping(leaving, product.id);
    await shopping(staying, product.id);
    for (const customer of [leaving, staying]) {
      const held = Object.values(await heldAbout(customer.id));
      expect(held.every((count) => count > 0)).toBe(true);
    }
    const staysHeld = await heldAbout(staying.id);

    const deleted = await shop.send('DELETE', '/api/v1/users/me', {
      token: leaving.token,
      body: { password },
    });
    expect(deleted.status).toBe(204);

    const left = await pollUntil(
      async () => {
        const held = await heldAbout(leaving.id);
        return Object.values(held).every((count) => count === 0) ? held : undefined;
      },
      { timeoutMs: 30_000, what: "the deleted user's data erased in every service" },
    );
    expect(left).toEqual(nothing);
    expect(await heldAbout(staying.id)).toEqual(staysHeld);
    const orders = await adminOrders(shop, adminToken);
    expect(orders.find((order) => order.id === leavingOrder)).toMatchObject({
      userId: leaving.id,
      status: 'confirmed',
    });
  });
});

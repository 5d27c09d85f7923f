import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useCartApp } from '../test-support.ts';
import type { CartView } from './schemas.ts';

type Cart = ReturnType<typeof useCartApp>;

/** Calls as one user. */
function shopperOf(cart: Cart, token: string) {
  const put = (productId: string, quantity: unknown) =>
    cart.call('PUT', `/api/v1/cart/items/${productId}`, { token, body: { quantity } });
  const view = async () =>
    (await (await cart.call('GET', '/api/v1/cart', { token })).json()) as CartView;
  const checkout = (key: string | null = randomUUID(), paymentMethod = 'pm_card_visa') =>
    cart.call('POST', '/api/v1/cart/checkout', {
      token,
      body: { paymentMethod },
      ...(key === null ? {} : { headers: { 'idempotency-key': key } }),
    });
  return { put, view, checkout };
}

describe('the cart’s lines', () => {
  const cart = useCartApp();

  it('starts empty, then prices each line from the catalog now', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    expect(await view()).toEqual({ items: [], total: 0, currency: 'USD' });
    const lamp = cart.catalog.add({ name: 'Lamp', price: 1_250, available: 3 });
    const desk = cart.catalog.add({ name: 'Desk', price: 15_000, available: 0 });
    expect((await put(lamp.id, 2)).status).toBe(200);
    const res = await put(desk.id, 1);
    expect(await res.json()).toEqual({
      items: [
        { productId: lamp.id, name: 'Lamp', quantity: 2, unitPrice: 1_250, available: 3 },
        { productId: desk.id, name: 'Desk', quantity: 1, unitPrice: 15_000, available: 0 },
      ],
      total: 17_500,
      currency: 'USD',
    });
    cart.catalog.add({ ...lamp, price: 1_000 });
    expect((await view()).total).toBe(17_000);
  });

  it('changes a quantity in place, removes a line at 0 or by DELETE, and empties on DELETE', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    const [a, b, c] = [cart.catalog.add(), cart.catalog.add(), cart.catalog.add()];
    for (const product of [a, b, c]) await put(product.id, 1);
    await put(a.id, 5);
    expect((await view()).items.map((i) => [i.productId, i.quantity])).toEqual([
      [a.id, 5],
      [b.id, 1],
      [c.id, 1],
    ]);
    await put(b.id, 0);
    const removed = await cart.call('DELETE', `/api/v1/cart/items/${c.id}`, { token });
    expect(removed.status).toBe(200);
    expect(((await removed.json()) as CartView).items.map((i) => i.productId)).toEqual([a.id]);
    expect((await cart.call('DELETE', `/api/v1/cart/items/${c.id}`, { token })).status).toBe(200);
    expect((await cart.call('DELETE', '/api/v1/cart', { token })).status).toBe(204);
    expect(await view()).toEqual({ items: [], total: 0, currency: 'USD' });
  });

  it('refuses an unknown product (404), a quantity outside 0..100 and a bad id (400)', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    const lamp = cart.catalog.add();
    expect((await put(randomUUID(), 1)).status).toBe(404);
    for (const quantity of [101, -1, 1.5, '2', null]) {
      expect((await put(lamp.id, quantity)).status).toBe(400);
    }
    expect((await put('not-a-uuid', 1)).status).toBe(400);
    expect((await put(lamp.id, 100)).status).toBe(200);
    expect((await view()).items).toHaveLength(1);
  });

  it('refuses a malformed JSON body from a user with 400 problem+json', async () => {
    const { token } = await cart.newUser();
    const lamp = cart.catalog.add();
    const res = await cart.call('PUT', `/api/v1/cart/items/${lamp.id}`, {
      token,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    const broken = await cart.get().request(`/api/v1/cart/items/${lamp.id}`, {
      method: 'PUT',
      headers: {
        'dapr-api-token': cart.appApiToken,
        'dapr-caller-app-id': 'gateway',
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: '{"quantity": ',
    });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toBe('application/problem+json');
  });

  it('holds at most 50 products (409 for the next), as one order may', async () => {
    const { token } = await cart.newUser();
    const { put } = shopperOf(cart, token);
    for (let i = 0; i < 50; i++) expect((await put(cart.catalog.add().id, 1)).status).toBe(200);
    expect((await put(cart.catalog.add().id, 1)).status).toBe(409);
  });

  it('drops a product the catalog no longer has, and lets its line be set to 0', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    const [kept, gone] = [cart.catalog.add({ price: 100 }), cart.catalog.add({ price: 900 })];
    await put(kept.id, 1);
    await put(gone.id, 1);
    cart.catalog.remove(gone.id);
    expect(await view()).toMatchObject({ items: [{ productId: kept.id }], total: 100 });
    expect((await put(gone.id, 0)).status).toBe(200);
    expect((await put(gone.id, 1)).status).toBe(404);
  });

  it('asks the catalog once per request, whatever the cart holds', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    for (let i = 0; i < 3; i++) await put(cart.catalog.add().id, 1);
    const before = cart.catalog.calls.length;
    await view();
    await put(cart.catalog.add().id, 2);
    expect(cart.catalog.calls.length - before).toBe(2);
    expect(cart.catalog.calls.at(-1)).toHaveLength(4);
  });

  it('loses no line when two devices add at once', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    const products = Array.from({ length: 8 }, () => cart.catalog.add());
    // Each PUT reads the cart twice before it writes: every one of them reads it as it was.
    cart.stateStore.lineUpReads(products.length, 2);
    const answers = await Promise.all(products.map((p) => put(p.id, 1)));
    expect(answers.map((r) => r.status)).toEqual(products.map(() => 200));
    expect((await view()).items.map((i) => i.productId).sort()).toEqual(
      products.map((p) => p.id).sort(),
    );
  });

  it('keeps each user’s cart their own', async () => {
    const [ada, bob] = [await cart.newUser(), await cart.newUser()];
    await shopperOf(cart, ada.token).put(cart.catalog.add().id, 1);
    expect((await shopperOf(cart, bob.token).view()).items).toEqual([]);
  });

  it('answers 503 while the state store or the catalog is down, and 401 without a token', async () => {
    const { token } = await cart.newUser();
    const { put, view } = shopperOf(cart, token);
    const lamp = cart.catalog.add();
    expect((await cart.call('GET', '/api/v1/cart')).status).toBe(401);
    cart.catalog.down = true;
    expect((await put(lamp.id, 1)).status).toBe(503);
    cart.catalog.down = false;
    cart.stateStore.state.outage = true;
    try {
      const res = await cart.call('GET', '/api/v1/cart', { token });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      cart.stateStore.state.outage = false;
    }
    expect((await view()).items).toEqual([]);
  });

  it('renews the cart’s TTL from CART_TTL_DAYS on every write', async () => {
    const { id, token } = await cart.newUser();
    await shopperOf(cart, token).put(cart.catalog.add().id, 1);
    expect(cart.stateStore.entries.get(`cart:${id}`)?.ttlSeconds).toBe(30 * 86_400);
  });
});

describe('checking the cart out', () => {
  const cart = useCartApp();

  async function filledCart(lines = 2) {
    const user = await cart.newUser();
    const shopper = shopperOf(cart, user.token);
    const products = Array.from({ length: lines }, () => cart.catalog.add());
    for (const [i, p] of products.entries()) await shopper.put(p.id, i + 1);
    return { ...user, ...shopper, products };
  }

  it('places the lines through orders as the user, with their key, answers as orders did and empties the cart', async () => {
    const { token, checkout, view, products } = await filledCart();
    const key = randomUUID();
    const res = await checkout(key);
    expect(res.status).toBe(202);
    const order = (await res.json()) as { id: string };
    expect(res.headers.get('location')).toBe(`/api/v1/orders/${order.id}`);
    expect(cart.orders.placed.at(-1)).toEqual({
      authorization: `Bearer ${token}`,
      idempotencyKey: key,
      items: products.map((p, i) => ({ productId: p.id, quantity: i + 1 })),
      paymentMethod: 'pm_card_visa',
    });
    expect((await view()).items).toEqual([]);
  });

  it('replays a key with the first lines and leaves a cart filled since alone', async () => {
    const { put, checkout, view, products } = await filledCart();
    const key = randomUUID();
    const first = await checkout(key);
    const later = cart.catalog.add();
    await put(later.id, 4);
    const replay = await checkout(key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await first.json());
    expect(cart.orders.placed.at(-1)?.items.map((i) => i.productId)).toEqual(
      products.map((p) => p.id),
    );
    expect((await view()).items).toMatchObject([{ productId: later.id, quantity: 4 }]);
  });

  it('empties the cart on the replay when the first attempt’s answer never arrived', async () => {
    const { checkout, view } = await filledCart();
    const key = randomUUID();
    cart.orders.answerNext(503);
    expect((await checkout(key)).status).toBe(503);
    expect((await view()).items).toHaveLength(2);
    expect((await checkout(key)).status).toBe(202);
    expect((await view()).items).toEqual([]);
  });

  it('answers 409 for an empty cart and 400 without a key, placing nothing', async () => {
    const empty = shopperOf(cart, (await cart.newUser()).token);
    const placed = cart.orders.placed.length;
    const res = await empty.checkout();
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const { checkout } = await filledCart();
    expect((await checkout(null)).status).toBe(400);
    expect((await checkout(randomUUID(), '')).status).toBe(400);
    expect(cart.orders.placed.length).toBe(placed);
  });

  it('hands on orders’ refusal and keeps the cart; the key then serves the cart anew', async () => {
    const { put, checkout, view } = await filledCart();
    const key = randomUUID();
    cart.orders.answerNext(422);
    const refused = await checkout(key);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { detail: string }).detail).toBe('as the test asked');
    const added = cart.catalog.add();
    await put(added.id, 1);
    expect((await checkout(key)).status).toBe(202);
    expect(cart.orders.placed.at(-1)?.items).toHaveLength(3);
    expect((await view()).items).toEqual([]);
  });

  it('refuses a second key while the first one’s order is being placed, not after', async () => {
    const { checkout, put } = await filledCart();
    const first = randomUUID();
    cart.orders.answerNext(503);
    expect((await checkout(first)).status).toBe(503);
    const second = await checkout(randomUUID());
    expect(second.status).toBe(409);
    expect(((await second.json()) as { detail: string }).detail).toMatch(/checked out already/);
    expect((await checkout(first)).status).toBe(202);
    await put(cart.catalog.add().id, 1);
    expect((await checkout(randomUUID())).status).toBe(202);
  });

  it('leaves out a product deleted since it was added; only deleted ones: an empty cart', async () => {
    const { checkout, products } = await filledCart();
    cart.catalog.remove(products[0]?.id ?? '');
    expect((await checkout()).status).toBe(202);
    expect(cart.orders.placed.at(-1)?.items.map((i) => i.productId)).toEqual([products[1]?.id]);
    const other = await filledCart(1);
    cart.catalog.remove(other.products[0]?.id ?? '');
    expect((await other.checkout()).status).toBe(409);
  });

  it('answers 503 when the catalog cannot say which products still exist', async () => {
    const { checkout } = await filledCart();
    cart.catalog.down = true;
    try {
      expect((await checkout()).status).toBe(503);
    } finally {
      cart.catalog.down = false;
    }
  });
});

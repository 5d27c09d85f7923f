import { randomUUID } from 'node:crypto';
import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useCartApp } from '../test-support.ts';
import type { CartView } from './schemas.ts';

type Cart = ReturnType<typeof useCartApp>;

/** A user whose cart held two lines and was checked out: the order and what it held. */
async function checkedOut(cart: Cart) {
  const { id: userId, token } = await cart.newUser();
  const products = [cart.catalog.add(), cart.catalog.add()];
  const put = (productId: string, quantity: number) =>
    cart.call('PUT', `/api/v1/cart/items/${productId}`, { token, body: { quantity } });
  for (const [i, product] of products.entries()) await put(product.id, i + 1);
  const res = await cart.call('POST', '/api/v1/cart/checkout', {
    token,
    body: { paymentMethod: 'pm_card_visa' },
    headers: { 'idempotency-key': randomUUID() },
  });
  if (res.status !== 202) throw new Error(`checkout failed: ${res.status}`);
  const { id: orderId } = (await res.json()) as { id: string };
  const lines = async () => {
    const view = (await (await cart.call('GET', '/api/v1/cart', { token })).json()) as CartView;
    return view.items.map((item) => [item.productId, item.quantity]);
  };
  const held = products.map((p, i) => [p.id, i + 1]);
  return { userId, token, orderId, products, put, lines, held };
}

const cancelled = (orderId: string, userId: string, reason: string) =>
  eventFixture('order.cancelled', { orderId, userId, reason } as never);

describe('the cart after its order ends', () => {
  const cart = useCartApp();

  it.each(['out_of_stock', 'payment_declined'])(
    'puts the lines back when the order is cancelled as %s, once',
    async (reason) => {
      const { userId, orderId, lines, held } = await checkedOut(cart);
      expect(await lines()).toEqual([]);
      const event = cancelled(orderId, userId, reason);
      expect(await cart.deliver(event)).toBe('SUCCESS');
      expect(await lines()).toEqual(held);
      expect(await cart.deliver(event)).toBe('SUCCESS');
      expect(await lines()).toEqual(held);
    },
  );

  it.each(['customer_request', 'expired'])(
    'keeps them out when cancelled as %s',
    async (reason) => {
      const { userId, orderId, lines } = await checkedOut(cart);
      expect(await cart.deliver(cancelled(orderId, userId, reason))).toBe('SUCCESS');
      expect(await lines()).toEqual([]);
    },
  );

  it('keeps them out when the user changed the cart since the checkout', async () => {
    const { userId, orderId, put, lines } = await checkedOut(cart);
    const later = cart.catalog.add();
    await put(later.id, 3);
    await put(later.id, 0);
    expect(await cart.deliver(cancelled(orderId, userId, 'out_of_stock'))).toBe('SUCCESS');
    expect(await lines()).toEqual([]);
  });

  it('forgets the lines once the order is confirmed', async () => {
    const { userId, orderId, lines } = await checkedOut(cart);
    const confirmed = eventFixture('order.confirmed', { orderId, userId });
    expect(await cart.deliver(confirmed)).toBe('SUCCESS');
    expect(await cart.deliver(cancelled(orderId, userId, 'payment_declined'))).toBe('SUCCESS');
    expect(await lines()).toEqual([]);
  });

  it('takes an unknown order’s end as done, unless a checkout still waits for its answer', async () => {
    const { id: userId } = await cart.newUser();
    const unknown = cancelled(randomUUID(), userId, 'out_of_stock');
    expect(await cart.deliver(unknown)).toBe('SUCCESS');
    const waiting = await checkedOut(cart);
    const doc = cart.stateStore.entries.get(`cart:${waiting.userId}`)?.value as {
      checkouts: Array<{ orderId: string | null }>;
    };
    for (const checkout of doc.checkouts) checkout.orderId = null;
    const early = cancelled(waiting.orderId, waiting.userId, 'out_of_stock');
    expect(await cart.deliver(early)).toBe('RETRY');
    cart.clock.now = new Date(cart.clock.now.getTime() + 21_000);
    expect(await cart.deliver(early)).toBe('SUCCESS');
  });

  it('erases the cart and its checkouts when the user is deleted', async () => {
    const { userId, token, put } = await checkedOut(cart);
    await put(cart.catalog.add().id, 1);
    const deleted = eventFixture('user.deleted', { userId });
    expect(await cart.deliver(deleted)).toBe('SUCCESS');
    expect(cart.stateStore.entries.has(`cart:${userId}`)).toBe(false);
    const view = await cart.call('GET', '/api/v1/cart', { token });
    expect(await view.json()).toEqual({ items: [], total: 0, currency: 'USD' });
    expect(await cart.deliver(deleted)).toBe('SUCCESS');
  });

  it('asks for redelivery while the state store is down', async () => {
    const { userId, orderId } = await checkedOut(cart);
    cart.stateStore.state.outage = true;
    try {
      expect(await cart.deliver(cancelled(orderId, userId, 'out_of_stock'))).toBe('RETRY');
      expect(await cart.deliver(eventFixture('user.deleted', { userId }))).toBe('RETRY');
    } finally {
      cart.stateStore.state.outage = false;
    }
  });
});

import { type ServerType, serve } from '@hono/node-server';
import { freePorts } from '@shop/devkit/process';
import { stateStoreProfiles } from '@shop/devkit/shop';
import { silentLogger, startTestShop, type TestShop } from '@shop/devkit/testing';
import { createSidecar, type Sidecar } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CartView } from '../cart/schemas.ts';
import { stateDeadLetterStore } from '../dead-letters.ts';
import { useCartApp } from '../test-support.ts';
import { type StateStore, updateEntry } from './entries.ts';

// The cart's optimistic concurrency against a real daprd and each state store profile the
// shop offers (its cartstore component in components/statestore/<profile>/, with the
// resiliency the shop runs): ETags, first-write creates and TTLs as the cart uses them, so
// the in-process store its route tests run on is held to the truth. Bursts of concurrent
// writes to one key must neither lose a change nor trip anything that shuts the cart out.

/** A daprd for app id `cart` (serving nothing but its port), and the sidecar to call it. */
function useCartSidecar(stateStore: (typeof stateStoreProfiles)[number]) {
  let shop: TestShop | undefined;
  let server: ServerType | undefined;
  let sidecar: Sidecar | undefined;
  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    server = serve({ fetch: () => new Response('ok'), port, hostname: '127.0.0.1' });
    shop = await startTestShop({
      apps: [],
      sidecarsOnly: [{ appId: 'cart', appPort: port }],
      stateStore,
    });
    const started = shop.apps.cart;
    if (!started) throw new Error('the shop started no cart sidecar');
    sidecar = createSidecar(
      {
        DAPR_HOST: '127.0.0.1',
        DAPR_HTTP_PORT: started.daprHttpPort,
        DAPR_API_TOKEN: started.daprApiToken,
      },
      silentLogger('cart'),
    );
  });
  afterAll(async () => {
    await shop?.stop();
    server?.close();
  });
  // Handed to the app before the sidecar exists: each call looks it up then.
  const current = () => {
    if (!sidecar) throw new Error('the sidecar has not started');
    return sidecar;
  };
  const store: StateStore = {
    getState: (...args) => current().getState(...args),
    saveState: (...args) => current().saveState(...args),
    deleteState: (...args) => current().deleteState(...args),
  };
  return store;
}

describe.each(stateStoreProfiles)('the cart on the %s state store', (profile) => {
  const store = useCartSidecar(profile);
  const cart = useCartApp(store);
  const settings = { store, storeName: 'cartstore', timeoutMs: 5_000, ttlSeconds: 600 };

  it('loses no line when many devices add to a new cart at once', async () => {
    const { token } = await cart.newUser();
    const products = Array.from({ length: 12 }, () => cart.catalog.add());
    const answers = await Promise.all(
      products.map((p) =>
        cart.call('PUT', `/api/v1/cart/items/${p.id}`, { token, body: { quantity: 2 } }),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(products.map(() => 200));
    const view = (await (await cart.call('GET', '/api/v1/cart', { token })).json()) as CartView;
    expect(view.items.map((i) => i.productId).sort()).toEqual(products.map((p) => p.id).sort());
    expect(view.total).toBe(12 * 2 * 1_250);
  });

  it('counts every one of many concurrent increments exactly once', async () => {
    const key = `counter-${crypto.randomUUID()}`;
    const parse = (stored: unknown) => (typeof stored === 'number' ? stored : 0);
    await Promise.all(
      Array.from({ length: 20 }, () => updateEntry(settings, key, parse, (n) => n + 1)),
    );
    expect((await store.getState('cartstore', key))?.value).toBe(20);
  });

  it('checks out and replays against the real store, emptying the cart once', async () => {
    const { token } = await cart.newUser();
    const put = (id: string, quantity: number) =>
      cart.call('PUT', `/api/v1/cart/items/${id}`, { token, body: { quantity } });
    await put(cart.catalog.add().id, 1);
    const checkout = () =>
      cart.call('POST', '/api/v1/cart/checkout', {
        token,
        body: { paymentMethod: 'pm_card_visa' },
        headers: { 'idempotency-key': 'same-key' },
      });
    expect((await checkout()).status).toBe(202);
    const later = cart.catalog.add();
    await put(later.id, 2);
    const replay = await checkout();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const view = (await (await cart.call('GET', '/api/v1/cart', { token })).json()) as CartView;
    expect(view.items.map((i) => [i.productId, i.quantity])).toEqual([[later.id, 2]]);
  });

  it('keeps dead letters, every one of those arriving at once', async () => {
    const letters = stateDeadLetterStore({ store, storeName: 'cartstore', timeoutMs: 5_000 });
    const ids = Array.from({ length: 6 }, () => crypto.randomUUID());
    await Promise.all(
      ids.map((id) =>
        letters.add({ id, type: 'user.deleted', receivedAt: new Date().toISOString(), event: {} }),
      ),
    );
    const kept = (await letters.list()).map((l) => l.id);
    expect(ids.every((id) => kept.includes(id))).toBe(true);
  });

  it('lets an entry expire after its TTL', async () => {
    const key = `short-${crypto.randomUUID()}`;
    await updateEntry(
      { ...settings, ttlSeconds: 1 },
      key,
      () => 0,
      () => 1,
    );
    expect((await store.getState('cartstore', key))?.value).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await store.getState('cartstore', key)).toBeUndefined();
  });
});

import { randomUUID } from 'node:crypto';
import { silentLogger } from '@shop/devkit/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { memoryStateStore } from '../test-support.ts';
import { createProductCache } from './cache.ts';
import type { ProductView } from './schemas.ts';

const ttlSeconds = 60;

/** A cache over the in-memory store, on a clock only the test moves. */
function steppedCache() {
  const store = memoryStateStore();
  let now = Date.now();
  const cache = createProductCache({
    store,
    storeName: 'statestore',
    ttlSeconds,
    timeoutMs: 200,
    logger: silentLogger('catalog'),
    registry: new Registry(),
    now: () => now,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { cache, store, advance };
}

function productAt(version: number) {
  const at = new Date().toISOString();
  const product: ProductView = {
    id: randomUUID(),
    sku: 'SKU-1',
    name: 'Kettle',
    description: '',
    category: 'misc',
    price: 1_000,
    currency: 'USD',
    available: 0,
    createdAt: at,
    updatedAt: at,
  };
  return { product, version };
}

describe('the product cache', () => {
  it('caches what a reader loaded within half the TTL', async () => {
    const { cache, advance } = steppedCache();
    const loaded = productAt(1);
    let loads = 0;
    const load = async () => {
      loads++;
      advance((ttlSeconds * 1_000) / 2);
      return loaded;
    };
    expect(await cache.read(loaded.product.id, load)).toEqual(loaded);
    expect(await cache.read(loaded.product.id, load)).toEqual(loaded);
    expect(loads).toBe(1);
  });

  it('does not cache what a reader took longer than half the TTL to load', async () => {
    const { cache, store, advance } = steppedCache();
    const loaded = productAt(1);
    const slowLoad = async () => {
      // An invalidation marker written when this read began could expire before its write.
      advance((ttlSeconds * 1_000) / 2 + 1);
      return loaded;
    };
    expect(await cache.read(loaded.product.id, slowLoad)).toEqual(loaded);
    expect(store.entries.size).toBe(0);
  });

  it('does not cache a version older than the marker a change left', async () => {
    const { cache, store } = steppedCache();
    const old = productAt(1);
    await cache.invalidate(old.product.id, 2);
    expect(await cache.read(old.product.id, async () => old)).toEqual(old);
    expect([...store.entries.values()].map((entry) => entry.value)).toEqual([
      { kind: 'invalidated', version: 2 },
    ]);
  });
});

import { databaseBackends, eventFixture } from '@shop/devkit/testing';
import { metricsText } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { productBody, useCatalogApp } from '../test-support.ts';
import type { ProductView } from './schemas.ts';

describe.each(databaseBackends)('stock.changed on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const create = async (stock = 0) => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody({ stock }),
      token: catalog.admin(),
    });
    return (await res.json()) as ProductView;
  };
  const stockChanged = (productId: string, available: number, version: number) =>
    eventFixture('stock.changed', { productId, available, reserved: 0, sold: 0, version });
  const deliver = async (event: unknown) => {
    const res = await catalog.call('POST', '/events/stock.changed', {
      caller: null,
      headers: { 'content-type': 'application/cloudevents+json' },
      body: event,
    });
    return ((await res.json()) as { status: string }).status;
  };
  const available = async (id: string) =>
    ((await (await catalog.call('GET', `/api/v1/products/${id}`)).json()) as ProductView).available;

  it('copies a newer stock level onto the product, visible at once despite a warm cache', async () => {
    const product = await create(5);
    expect(await available(product.id)).toBe(5);
    expect(await deliver(stockChanged(product.id, 3, 1))).toBe('SUCCESS');
    expect(await available(product.id)).toBe(3);
    expect(await deliver(stockChanged(product.id, 0, 2))).toBe('SUCCESS');
    expect(await available(product.id)).toBe(0);
  });

  it('ignores an older or equal version, and a redelivered event', async () => {
    const product = await create();
    const newer = stockChanged(product.id, 9, 5);
    expect(await deliver(newer)).toBe('SUCCESS');
    expect(await deliver(stockChanged(product.id, 1, 4))).toBe('SUCCESS');
    expect(await deliver(stockChanged(product.id, 2, 5))).toBe('SUCCESS');
    expect(await available(product.id)).toBe(9);
    const etag = (await catalog.call('GET', `/api/v1/products/${product.id}`)).headers.get('etag');
    expect(await deliver(newer)).toBe('SUCCESS');
    expect((await catalog.call('GET', `/api/v1/products/${product.id}`)).headers.get('etag')).toBe(
      etag,
    );
  });

  it('accepts stock for a product it does not know (or deleted), changing nothing', async () => {
    expect(await deliver(stockChanged(crypto.randomUUID(), 4, 1))).toBe('SUCCESS');
  });

  it('drops an event that breaks its schema, and keeps it as a dead letter when Dapr sends it there', async () => {
    const product = await create();
    const broken = { ...stockChanged(product.id, 1, 1), data: { productId: product.id } };
    expect(await deliver(broken)).toBe('DROP');
    expect(await available(product.id)).toBe(0);
  });
});

describe.each(databaseBackends)('the product read cache on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const ctx = { catalog, ...readCacheHelpers(catalog) };

  readCacheCases(ctx);
  cacheOutageAndDeleteCases(ctx);
});

type CatalogApp = ReturnType<typeof useCatalogApp>;
type ReadCacheCtx = { catalog: CatalogApp } & ReturnType<typeof readCacheHelpers>;

/** A product to read, public reads of it, and the cache's hit and miss counts. */
function readCacheHelpers(catalog: CatalogApp) {
  const create = async () => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody({ price: 1_000 }),
      token: catalog.admin(),
    });
    return (await res.json()) as ProductView;
  };
  const read = async (id: string) => {
    const res = await catalog.call('GET', `/api/v1/products/${id}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ProductView;
  };
  const lookups = async () => {
    const text = await metricsText(catalog.get().app);
    const count = (outcome: string) =>
      Number(
        new RegExp(
          `catalog_product_cache_lookups_total\\{outcome="${outcome}"[^}]*\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    return { hit: count('hit'), miss: count('miss'), error: count('error') };
  };
  return { create, read, lookups };
}

function readCacheCases({ catalog, create, read, lookups }: ReadCacheCtx) {
  it('serves a repeated read from the state store, counting hits and misses', async () => {
    const product = await create();
    const before = await lookups();
    await read(product.id);
    await read(product.id);
    const after = await lookups();
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(1);
  });

  it('never answers the old product after a change returned, even when a slow reader of the old one writes last', async () => {
    const product = await create();
    await read(product.id);
    // The cached entry is gone after the first change; this reader then misses, reads the
    // database (the old price) and is held there until the next change has returned.
    expect(
      (
        await catalog.call('PATCH', `/api/v1/products/${product.id}`, {
          body: { price: 900 },
          token: catalog.admin(),
        })
      ).status,
    ).toBe(200);
    let releaseReader = () => {};
    const readerHeld = new Promise<void>((resolve) => {
      releaseReader = resolve;
    });
    let readerRead = () => {};
    const readerHasRead = new Promise<void>((resolve) => {
      readerRead = resolve;
    });
    const store = catalog.stateStore;
    const original = store.saveState;
    // The reader's write into the cache waits for the writer; everything else passes.
    store.saveState = async (name, key, value, options) => {
      if (
        (value as { kind?: string }).kind === 'product' &&
        (value as { product: ProductView }).product.price === 900
      ) {
        readerRead();
        await readerHeld;
      }
      return original(name, key, value, options);
    };
    try {
      const slowRead = read(product.id);
      await readerHasRead;
      const patched = await catalog.call('PATCH', `/api/v1/products/${product.id}`, {
        body: { price: 800 },
        token: catalog.admin(),
      });
      expect(patched.status).toBe(200);
      releaseReader();
      expect((await slowRead).price).toBe(900);
    } finally {
      store.saveState = original;
    }
    for (let i = 0; i < 3; i++) expect((await read(product.id)).price).toBe(800);
    expect((await lookups()).hit).toBeGreaterThan(0);
  });
}

function cacheOutageAndDeleteCases({ catalog, create, read, lookups }: ReadCacheCtx) {
  it('keeps reading (from the database) while the state store is down', async () => {
    const product = await create();
    await read(product.id);
    catalog.stateStore.state.outage = true;
    try {
      const before = await lookups();
      expect((await read(product.id)).id).toBe(product.id);
      expect((await lookups()).error - before.error).toBe(1);
      // A change still succeeds; its invalidation is logged, not fatal.
      const res = await catalog.call('PATCH', `/api/v1/products/${product.id}`, {
        body: { name: 'Renamed in an outage' },
        token: catalog.admin(),
      });
      expect(res.status).toBe(200);
      expect(
        catalog.logger.lines.some(
          (line) =>
            line.msg === 'product cache invalidation failed; the entry expires with its TTL',
        ),
      ).toBe(true);
    } finally {
      catalog.stateStore.state.outage = false;
    }
  });

  it('forgets a deleted product', async () => {
    const product = await create();
    await read(product.id);
    await catalog.call('DELETE', `/api/v1/products/${product.id}`, { token: catalog.admin() });
    expect((await catalog.call('GET', `/api/v1/products/${product.id}`)).status).toBe(404);
  });
}

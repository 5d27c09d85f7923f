import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { productBody, useCatalogApp } from '../test-support.ts';
import type { ProductView } from './schemas.ts';

describe.each(databaseBackends)('products on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const ctx = { catalog, ...productHelpers(catalog) };

  createCases(ctx);
  createValidationCases(ctx);
  accessAndIdCases(ctx);
  readAndChangeCases(ctx);
  deleteAndCountCases(ctx);
  batchReadCases(ctx);
});

type CatalogApp = ReturnType<typeof useCatalogApp>;
type Ctx = { catalog: CatalogApp } & ReturnType<typeof productHelpers>;

/** Product calls as an admin makes them, and what they leave behind. */
function productHelpers(catalog: CatalogApp) {
  const create = async (fields: Record<string, unknown> = {}) => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody(fields),
      token: catalog.admin(),
    });
    expect(res.status).toBe(201);
    return { product: (await res.json()) as ProductView, etag: res.headers.get('etag') as string };
  };
  const get = (id: string, headers: Record<string, string> = {}) =>
    catalog.call('GET', `/api/v1/products/${id}`, { headers });
  const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    catalog.call('PATCH', `/api/v1/products/${id}`, { body, headers, token: catalog.admin() });
  const eventsFor = async (productId: string) => {
    await catalog.get().outbox.drain();
    return catalog.published
      .filter((event) => (event.data as { productId?: string }).productId === productId)
      .map((event) => ({ ...event, data: event.data as Record<string, unknown> }));
  };
  const productRows = () =>
    catalog
      .get()
      .db.selectFrom('products')
      .select('id')
      .execute()
      .then((rows) => rows.length);
  return { create, get, patch, eventsFor, productRows };
}

function createCases({ catalog, create, eventsFor, productRows }: Ctx) {
  it('creates a product with a Location and ETag, ignoring read-only fields, and announces it with its initial stock', async () => {
    const res = await catalog.call('POST', '/api/v1/products', {
      token: catalog.admin(),
      body: {
        ...productBody({ name: '  Trail Shoe ', description: 'Grippy.', stock: 7 }),
        id: '00000000-0000-4000-8000-000000000000',
        available: 999,
        createdAt: '2000-01-01T00:00:00.000Z',
        unknown: 'ignored',
      },
    });
    expect(res.status).toBe(201);
    const product = (await res.json()) as ProductView;
    expect(product).toMatchObject({ name: 'Trail Shoe', description: 'Grippy.', available: 7 });
    expect(product.id).not.toBe('00000000-0000-4000-8000-000000000000');
    expect(product.createdAt).not.toBe('2000-01-01T00:00:00.000Z');
    expect(product).not.toHaveProperty('unknown');
    expect(res.headers.get('location')).toBe(`/api/v1/products/${product.id}`);
    expect(res.headers.get('etag')).toMatch(/^"v\d+"$/);
    const events = await eventsFor(product.id);
    expect(events.map((e) => e.type)).toEqual(['product.created']);
    expect(events[0]?.source).toBe('catalog');
    expect(events[0]?.data).toMatchObject({ initialStock: 7, price: 1_000, currency: 'USD' });
  });

  it('starts a product without stock at zero', async () => {
    const { product } = await create();
    expect(product.available).toBe(0);
    expect((await eventsFor(product.id))[0]?.data).toMatchObject({ initialStock: 0 });
  });

  it('refuses a duplicate sku with 409 and writes nothing', async () => {
    const body = productBody();
    expect(
      (await catalog.call('POST', '/api/v1/products', { body, token: catalog.admin() })).status,
    ).toBe(201);
    const before = await productRows();
    const res = await catalog.call('POST', '/api/v1/products', {
      body: { ...body, name: 'Other' },
      token: catalog.admin(),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await productRows()).toBe(before);
  });
}

function createValidationCases({ catalog, create, get, patch, productRows }: Ctx) {
  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'n'.repeat(201) }, 'name'],
    [{ description: 'd'.repeat(5_001) }, 'description'],
    [{ price: 0 }, 'price'],
    [{ price: 9.99 }, 'price'],
    [{ price: '1000' }, 'price'],
    [{ currency: 'usd' }, 'currency'],
    [{ sku: '' }, 'sku'],
    [{ stock: -1 }, 'stock'],
  ])('refuses %o with 400 naming %s, writing nothing', async (fields, field) => {
    const before = await productRows();
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody(fields),
      token: catalog.admin(),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain(field);
    expect(await productRows()).toBe(before);
  });

  it('refuses a currency other than the shop’s with 422, on create and on change', async () => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody({ currency: 'EUR' }),
      token: catalog.admin(),
    });
    expect(res.status).toBe(422);
    const { product } = await create();
    expect((await patch(product.id, { currency: 'EUR' })).status).toBe(422);
    expect(((await (await get(product.id)).json()) as ProductView).currency).toBe('USD');
  });
}

function accessAndIdCases({ catalog, create, get, patch }: Ctx) {
  it('keeps every admin route from customers (403) and from anonymous callers (401)', async () => {
    const { product } = await create();
    const routes: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/products', productBody()],
      ['PATCH', `/api/v1/products/${product.id}`, { name: 'Hijacked' }],
      ['DELETE', `/api/v1/products/${product.id}`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const asCustomer = await catalog.call(method, path, { body, token: catalog.customer() });
      expect(asCustomer.status).toBe(403);
      expect((await catalog.call(method, path, { body })).status).toBe(401);
    }
    expect(((await (await get(product.id)).json()) as ProductView).name).toBe(product.name);
  });

  it('answers a bad id with 400 and an unknown one with 404, as problem+json', async () => {
    const bad = await get('not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect((await get(crypto.randomUUID())).status).toBe(404);
    expect((await patch(crypto.randomUUID(), { name: 'x' })).status).toBe(404);
    expect(
      (
        await catalog.call('DELETE', `/api/v1/products/${crypto.randomUUID()}`, {
          token: catalog.admin(),
        })
      ).status,
    ).toBe(404);
  });
}

function readAndChangeCases({ create, get, patch, eventsFor }: Ctx) {
  it('serves a product with a strong ETag and 304 for a matching If-None-Match', async () => {
    const { product, etag } = await create();
    const res = await get(product.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(etag);
    expect(await res.json()).toEqual(product);
    const unchanged = await get(product.id, { 'if-none-match': etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect((await get(product.id, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    expect((await get(product.id, { 'if-none-match': '"v999999"' })).status).toBe(200);
  });

  it('changes a product under If-Match, refuses a stale ETag with 412, and announces both prices', async () => {
    const { product, etag } = await create({ price: 2_500 });
    const changed = await patch(product.id, { price: 1_999, id: 'ignored' }, { 'if-match': etag });
    expect(changed.status).toBe(200);
    const newEtag = changed.headers.get('etag');
    expect(newEtag).not.toBe(etag);
    expect(await changed.json()).toMatchObject({ id: product.id, price: 1_999 });

    const stale = await patch(product.id, { price: 1 }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(((await (await get(product.id)).json()) as ProductView).price).toBe(1_999);

    const events = await eventsFor(product.id);
    expect(events.map((e) => [e.type, e.data.previousPrice, e.data.price])).toEqual([
      ['product.created', undefined, 2_500],
      ['product.updated', 2_500, 1_999],
    ]);
  });

  it('announces every change that changes something, and nothing for one that changes nothing', async () => {
    const { product } = await create({ name: 'Lamp' });
    expect((await patch(product.id, { name: 'Lamp' })).status).toBe(200);
    expect((await patch(product.id, {})).status).toBe(200);
    expect((await patch(product.id, { category: 'lighting' })).status).toBe(200);
    const updates = (await eventsFor(product.id)).filter((e) => e.type === 'product.updated');
    expect(updates.map((e) => [e.data.category, e.data.previousPrice, e.data.price])).toEqual([
      ['lighting', 1_000, 1_000],
    ]);
  });

  it('refuses an invalid change with 400 and keeps the product as it was', async () => {
    const { product, etag } = await create();
    expect((await patch(product.id, { name: '', price: 5 })).status).toBe(400);
    expect((await get(product.id)).headers.get('etag')).toBe(etag);
  });
}

function deleteAndCountCases({ catalog, create, get, patch, eventsFor }: Ctx) {
  it('deletes a product: 204, then 404 for readers, yet the row stays for the orders that name it', async () => {
    const { product } = await create();
    const del = await catalog.call('DELETE', `/api/v1/products/${product.id}`, {
      token: catalog.admin(),
    });
    expect(del.status).toBe(204);
    expect((await get(product.id)).status).toBe(404);
    expect((await patch(product.id, { name: 'Back' })).status).toBe(404);
    const row = await catalog
      .get()
      .db.selectFrom('products')
      .select('deleted_at')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    const types = (await eventsFor(product.id)).map((e) => e.type);
    expect(types).toEqual(['product.created', 'product.deleted']);
    // Its SKU is free again.
    expect(
      (
        await catalog.call('POST', '/api/v1/products', {
          body: { ...productBody(), sku: product.sku },
          token: catalog.admin(),
        })
      ).status,
    ).toBe(201);
  });

  it('counts live products per category', async () => {
    const category = `cat-${crypto.randomUUID()}`;
    await create({ category });
    const { product } = await create({ category });
    await catalog.call('DELETE', `/api/v1/products/${product.id}`, { token: catalog.admin() });
    const res = await catalog.call('GET', '/api/v1/categories');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as {
      items: Array<{ name: string; productCount: number }>;
    };
    expect(items.find((c) => c.name === category)).toEqual({ name: category, productCount: 1 });
  });
}

function batchReadCases({ catalog, create }: Ctx) {
  it('reads a batch for orders, the cart and the gateway only, deleted and unknown ids as missing', async () => {
    const { product: kept } = await create();
    const { product: gone } = await create();
    await catalog.call('DELETE', `/api/v1/products/${gone.id}`, { token: catalog.admin() });
    const unknown = crypto.randomUUID();
    const body = { ids: [kept.id, gone.id, unknown, kept.id] };
    const res = await catalog.call('POST', '/internal/products/batch', { body, caller: 'orders' });
    expect(res.status).toBe(200);
    const batch = (await res.json()) as { items: ProductView[]; missing: string[] };
    expect(batch.items.map((p) => p.id)).toEqual([kept.id]);
    expect(batch.missing.sort()).toEqual([gone.id, unknown].sort());
    for (const caller of ['gateway', 'cart']) {
      expect(
        (await catalog.call('POST', '/internal/products/batch', { body, caller })).status,
      ).toBe(200);
    }
    expect(
      (await catalog.call('POST', '/internal/products/batch', { body, caller: 'payments' })).status,
    ).toBe(403);
    const tooMany = { ids: Array.from({ length: 101 }, () => crypto.randomUUID()) };
    expect(
      (await catalog.call('POST', '/internal/products/batch', { body: tooMany, caller: 'orders' }))
        .status,
    ).toBe(400);
    expect(
      (
        await catalog.call('POST', '/internal/products/batch', {
          body: { ids: [] },
          caller: 'orders',
        })
      ).status,
    ).toBe(400);
  });
}

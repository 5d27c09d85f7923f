import { databaseBackends } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { ProductView } from '../products/schemas.ts';
import { productBody, useCatalogApp } from '../test-support.ts';

describe.each(databaseBackends)('wishlists on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const ctx = { catalog, ...wishlistHelpers(catalog) };

  wishlistCases(ctx);
  wishlistersCases(ctx);
});

type CatalogApp = ReturnType<typeof useCatalogApp>;
type Ctx = { catalog: CatalogApp } & ReturnType<typeof wishlistHelpers>;

/** A product to wish for, and a user's wishlist calls. */
function wishlistHelpers(catalog: CatalogApp) {
  const create = async () => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody(),
      token: catalog.admin(),
    });
    return (await res.json()) as ProductView;
  };
  const wishlist = async (token: string) => {
    const res = await catalog.call('GET', '/api/v1/wishlist', { token });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: ProductView[] }).items.map((p) => p.id);
  };
  const put = (token: string, id: string) =>
    catalog.call('PUT', `/api/v1/wishlist/${id}`, { token });
  return { create, wishlist, put };
}

function wishlistCases({ catalog, create, wishlist, put }: Ctx) {
  it('adds a product once however often it is put, and removes it', async () => {
    const token = await catalog.tokenFor('wisher-1');
    const product = await create();
    expect((await put(token, product.id)).status).toBe(204);
    expect((await put(token, product.id)).status).toBe(204);
    expect(await wishlist(token)).toEqual([product.id]);
    expect((await catalog.call('DELETE', `/api/v1/wishlist/${product.id}`, { token })).status).toBe(
      204,
    );
    expect((await catalog.call('DELETE', `/api/v1/wishlist/${product.id}`, { token })).status).toBe(
      204,
    );
    expect(await wishlist(token)).toEqual([]);
  });

  it('keeps each user’s wishlist their own', async () => {
    const ada = await catalog.tokenFor('wisher-ada');
    const bob = await catalog.tokenFor('wisher-bob');
    const product = await create();
    await put(ada, product.id);
    expect(await wishlist(bob)).toEqual([]);
  });

  it('answers 404 for an unknown or deleted product, and 400 for a bad id', async () => {
    const token = await catalog.tokenFor('wisher-2');
    expect((await put(token, crypto.randomUUID())).status).toBe(404);
    const product = await create();
    await catalog.call('DELETE', `/api/v1/products/${product.id}`, { token: catalog.admin() });
    expect((await put(token, product.id)).status).toBe(404);
    expect((await put(token, 'nope')).status).toBe(400);
  });

  it('takes a deleted product off every wishlist', async () => {
    const ada = await catalog.tokenFor('wisher-3');
    const bob = await catalog.tokenFor('wisher-4');
    const kept = await create();
    const gone = await create();
    for (const token of [ada, bob]) {
      await put(token, kept.id);
      await put(token, gone.id);
    }
    await catalog.call('DELETE', `/api/v1/products/${gone.id}`, { token: catalog.admin() });
    expect(await wishlist(ada)).toEqual([kept.id]);
    expect(await wishlist(bob)).toEqual([kept.id]);
  });

  it('needs a token', async () => {
    expect((await catalog.call('GET', '/api/v1/wishlist')).status).toBe(401);
  });
}

function wishlistersCases({ catalog, create, put }: Ctx) {
  describe('GET /internal/products/{id}/wishlisters', () => {
    const wishlisters = (id: string, query = '', caller: string | null = 'notifications') =>
      catalog.call('GET', `/internal/products/${id}/wishlisters${query}`, { caller });
    type Page = { items: Array<{ userId: string }>; nextCursor: string | null };

    it('pages through exactly the product’s wishlisters, each once, for notifications', async () => {
      const [kettle, toaster] = [await create(), await create()];
      const users = Array.from({ length: 7 }, (_, i) => `lister-${i}`);
      for (const userId of users) {
        expect((await put(await catalog.tokenFor(userId), kettle.id)).status).toBe(204);
      }
      expect((await put(await catalog.tokenFor('toaster-fan'), toaster.id)).status).toBe(204);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
        const res = await wishlisters(kettle.id, query);
        expect(res.status).toBe(200);
        const page = (await res.json()) as Page;
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((item) => item.userId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(users);
    });

    it('answers an empty page for a product nobody wishes for, or that is deleted', async () => {
      const product = await create();
      expect(await (await wishlisters(product.id)).json()).toEqual({ items: [], nextCursor: null });
      expect((await put(await catalog.tokenFor('late-fan'), product.id)).status).toBe(204);
      const deleted = await catalog.call('DELETE', `/api/v1/products/${product.id}`, {
        token: catalog.admin(),
      });
      expect(deleted.status).toBe(204);
      expect(await (await wishlisters(product.id)).json()).toEqual({ items: [], nextCursor: null });
    });

    it.each(['gateway', 'orders', null])('refuses the caller %s with 403', async (caller) => {
      const product = await create();
      expect((await wishlisters(product.id, '', caller)).status).toBe(403);
    });

    it.each(['?limit=0', '?limit=101', '?cursor=nonsense'])(
      'answers %s with 400 problem+json',
      async (query) => {
        const product = await create();
        const res = await wishlisters(product.id, query);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      },
    );

    it('answers 400 for an id that is no uuid', async () => {
      expect((await wishlisters('not-a-uuid')).status).toBe(400);
    });
  });
}

import { databaseBackends } from '@shop/devkit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { productBody, useCatalogApp } from '../test-support.ts';
import type { ProductView } from './schemas.ts';

type Page = { items: ProductView[]; nextCursor: string | null };

// Every product of this file is in a category of its own, so the cases do not see each other's.
// Each group's beforeAll sets it; the groups run one after another.
let category = '';

describe.each(databaseBackends)('product search on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const ctx = { catalog, ...searchHelpers(catalog) };

  fullTextCases(ctx);
  filterAndSortCases(ctx);
  pageCases(ctx);
});

type CatalogApp = ReturnType<typeof useCatalogApp>;
type Ctx = { catalog: CatalogApp } & ReturnType<typeof searchHelpers>;

/** Products created in, and searches within, the current case's category. */
function searchHelpers(catalog: CatalogApp) {
  const create = async (fields: Record<string, unknown>) => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody({ category, ...fields }),
      token: catalog.admin(),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as ProductView;
  };
  const search = async (params: Record<string, string | number | boolean>) => {
    const query = new URLSearchParams(
      Object.entries({ category, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const res = await catalog.call('GET', `/api/v1/products?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };
  const names = async (params: Record<string, string | number | boolean>) =>
    (await search(params)).items.map((p) => p.name);
  return { create, search, names };
}

function fullTextCases({ create, search, names }: Ctx) {
  describe('full text', () => {
    beforeAll(async () => {
      category = 'search-text';
      await create({ name: 'Running Shoe', description: 'Light and fast.', price: 8_000 });
      await create({ name: 'Trail Running Shoe', description: 'Grips on mud.', price: 9_000 });
      await create({
        name: 'Wool Sock',
        description: 'Warm, for running in winter.',
        price: 1_200,
      });
      await create({ name: 'Shoe Polish', description: 'Makes leather shine.', price: 500 });
    });

    it('ranks a name match above a description match', async () => {
      expect(await names({ q: 'running', sort: 'relevance' })).toEqual([
        expect.stringMatching(/Running Shoe$/),
        expect.stringMatching(/Running Shoe$/),
        'Wool Sock',
      ]);
    });

    it('stems: "running shoes" finds "Running Shoe"', async () => {
      expect(await names({ q: 'running shoes' })).toEqual(
        expect.arrayContaining(['Running Shoe', 'Trail Running Shoe']),
      );
    });

    it('matches a quoted phrase only in that order', async () => {
      expect((await names({ q: '"trail running"' })).sort()).toEqual(['Trail Running Shoe']);
      expect(await names({ q: '"shoe running"' })).toEqual([]);
    });

    it('leaves out negated words', async () => {
      expect((await names({ q: 'shoe -trail' })).sort()).toEqual(['Running Shoe', 'Shoe Polish']);
    });

    it('matches the last word as a prefix while it is being typed', async () => {
      expect((await names({ q: 'runn' })).sort()).toEqual([
        'Running Shoe',
        'Trail Running Shoe',
        'Wool Sock',
      ]);
      expect(await names({ q: 'polis' })).toEqual(['Shoe Polish']);
      expect(await names({ q: 'trail runn' })).toEqual(['Trail Running Shoe']);
    });

    it('tolerates a typo in a name', async () => {
      expect(await names({ q: 'runnning' })).toEqual(
        expect.arrayContaining(['Running Shoe', 'Trail Running Shoe']),
      );
      expect(await names({ q: 'pollish' })).toEqual(['Shoe Polish']);
    });

    it('takes user input as data, never as SQL or tsquery syntax', async () => {
      for (const q of ["'; drop table products; --", 'shoe:* | !x', '&&&', '"unbalanced', 'a:b)']) {
        await search({ q });
      }
      expect(await names({ q: 'polish' })).toEqual(['Shoe Polish']);
    });
  });
}

function filterAndSortCases({ catalog, create, search, names }: Ctx) {
  describe('filters and sorts', () => {
    const prices = [3_000, 1_000, 5_000, 2_000, 4_000];
    let made: ProductView[] = [];
    beforeAll(async () => {
      category = 'search-filters';
      made = [];
      for (const [i, price] of prices.entries()) {
        made.push(await create({ name: `Lamp ${i}`, price, stock: i % 2 === 0 ? 3 : 0 }));
      }
    });

    it('sorts by price both ways, and newest first by default', async () => {
      const byPrice = (await search({ sort: 'price' })).items.map((p) => p.price);
      expect(byPrice).toEqual([...prices].sort((a, b) => a - b));
      const byPriceDesc = (await search({ sort: '-price' })).items.map((p) => p.price);
      expect(byPriceDesc).toEqual([...prices].sort((a, b) => b - a));
      expect(await names({})).toEqual(made.map((p) => p.name).reverse());
    });

    it('filters by price range, stock and category', async () => {
      expect(
        (await search({ minPrice: 2_000, maxPrice: 4_000, sort: 'price' })).items.map(
          (p) => p.price,
        ),
      ).toEqual([2_000, 3_000, 4_000]);
      expect((await search({ inStock: true })).items.every((p) => p.available > 0)).toBe(true);
      expect((await search({ inStock: true })).items).toHaveLength(3);
      expect((await search({ inStock: false })).items).toHaveLength(2);
      expect(await names({ category: 'no-such-category' })).toEqual([]);
    });

    it('refuses a bad query with 400', async () => {
      for (const query of [
        'limit=0',
        'limit=101',
        'sort=cheapest',
        'sort=relevance',
        'minPrice=5&maxPrice=1',
        'cursor=not-a-cursor',
        'inStock=maybe',
      ]) {
        const res = await catalog.call('GET', `/api/v1/products?${query}`);
        expect(res.status, query).toBe(400);
      }
    });

    it('refuses a cursor of another sort order', async () => {
      const { nextCursor } = await search({ sort: 'price', limit: 1 });
      const res = await catalog.call(
        'GET',
        `/api/v1/products?category=${category}&sort=-price&cursor=${nextCursor}`,
      );
      expect(res.status).toBe(400);
    });
  });
}

function pageCases({ create, search }: Ctx) {
  describe('pages', () => {
    beforeAll(() => {
      category = 'search-pages';
    });

    it.each(['newest', 'price', '-price', 'relevance'] as const)(
      'in %s order, lose and repeat nothing while products are added between pages',
      async (sort) => {
        category = `search-pages-${sort}`;
        const q: Record<string, string> = sort === 'relevance' ? { q: 'desk' } : {};
        const initial: string[] = [];
        for (let i = 0; i < 7; i++) {
          const description = 'desk '.repeat(i % 3);
          initial.push(
            (await create({ name: `Desk ${i}`, description, price: 100 * ((i % 4) + 1) })).id,
          );
        }
        const seen: string[] = [];
        let cursor: string | null = null;
        let added = 0;
        do {
          const page: Page = await search({ sort, limit: 2, ...q, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((p) => p.id));
          cursor = page.nextCursor;
          await create({ name: `Desk added ${added++}`, price: 100 * ((added % 4) + 1) });
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toEqual(expect.arrayContaining(initial));
      },
    );
  });
}

import { describeOperationFuzz } from '@shop/devkit/testing';
import { encodeCursor } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useCatalogApp } from './test-support.ts';

describe('catalog on postgres', () => {
  const catalog = useCatalogApp('postgres');
  describeOperationFuzz({
    subject: () => ({
      app: catalog.get().app,
      appApiToken: catalog.appApiToken,
      tokens: [catalog.admin(), catalog.customer()],
    }),
    internalCallers: ['orders', 'notifications'],
  });

  it.each(['category=%00', 'q=a%00b', 'category=%1B%5B31m', 'q=x%7F'])(
    'refuses ?%s with 400 problem+json (attack 1)',
    async (query) => {
      const res = await catalog.call('GET', `/api/v1/products?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );

  // A fuzzer cannot forge a well-formed cursor, so the ranges of its fields are checked here.
  it.each([
    ['price', { sort: 'price', price: 2 ** 31, id: crypto.randomUUID() }],
    ['-price', { sort: '-price', price: -1, id: crypto.randomUUID() }],
    ['relevance', { sort: 'relevance', rank: -1, similarity: 2, id: crypto.randomUUID() }],
  ])('refuses a %s cursor outside its columns with 400', async (sort, position) => {
    const q = sort === 'relevance' ? '&q=lamp' : '';
    const path = `/api/v1/products?sort=${sort}${q}&cursor=${encodeCursor(position)}`;
    const res = await catalog.call('GET', path);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});

import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, problemResponses } from '@shop/platform';
import type { Kysely } from 'kysely';
import { countLiveProductsByCategory } from '../products/repository.ts';
import type { CatalogTables } from '../tables.ts';

const categories = z
  .object({
    items: z.array(
      z.object({ name: z.string(), productCount: z.number().int().min(1) }).openapi('Category'),
    ),
  })
  .openapi('Categories');

const listRoute = createRoute({
  method: 'get',
  path: '/',
  responses: {
    200: {
      description: 'every category with live products, by name',
      content: { 'application/json': { schema: categories } },
    },
    ...problemResponses(403),
  },
});

/** Mounted at /api/v1/categories: anyone may read them. */
export function categoryRoutes(deps: { db: Kysely<CatalogTables> }) {
  return createRouter().openapi(listRoute, async (c) =>
    c.json({ items: await countLiveProductsByCategory(deps.db) }, 200),
  );
}

import DataLoader from 'dataloader';
import type { Product } from './resolvers.ts';
import type { Upstream } from './upstream.ts';

// The catalog's batch read takes at most 100 ids.
const maxBatchSize = 100;

/**
 * Products by id for one request: every id asked for in the same tick (all the lines of a
 * page of orders) goes to the catalog as one `POST /internal/products/batch`, each id
 * once; a deleted or unknown product is null.
 */
export function productLoader(upstream: Upstream): DataLoader<string, Product | null> {
  return new DataLoader(
    async (ids) => {
      const batch = await upstream<{ items: Product[] }>('catalog', '/internal/products/batch', {
        method: 'POST',
        body: { ids },
      });
      const byId = new Map(batch.items.map((product) => [product.id, product]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatchSize },
  );
}

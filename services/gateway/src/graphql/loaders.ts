import DataLoader from 'dataloader';
import type { Product } from './resolvers.ts';
import { problemError, type Upstream } from './upstream.ts';

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

export type TimelineEntry = { step: string; at: string; eventId: string; detail?: string };

/**
 * Orders' timelines for one request, each order read once however often it is asked for,
 * and at most `maxReads` orders (the orders service has no batch read, so each is one
 * call). The orders asked for together (a page of them) that would pass the cap are
 * refused together with a bad_request naming the limit, before any is read: one refused
 * timeline empties the whole non-null list anyway.
 */
export function timelineLoader(
  upstream: Upstream,
  maxReads: number,
): DataLoader<string, TimelineEntry[]> {
  let reads = 0;
  const read = async (orderId: string) =>
    (await upstream<{ items: TimelineEntry[] }>('orders', `/api/v1/orders/${orderId}/timeline`))
      .items;
  return new DataLoader(async (ids) => {
    if (reads + ids.length > maxReads) {
      const refused = problemError(
        'bad_request',
        `at most ${maxReads} order timelines in one request; ask for fewer orders`,
        { extensions: { limit: 'timelines' } },
      );
      return ids.map(() => refused);
    }
    reads += ids.length;
    return Promise.all(ids.map((id) => read(id).catch((error: unknown) => error as Error)));
  });
}

import { randomUUID } from 'node:crypto';
import { AppError, type CatalogClient, type CatalogProduct } from '@shop/platform';

/**
 * The catalog's batch read in process, for a service's own tests (the whole-shop tests
 * use the real one): products can be added and removed, the calls are recorded, lookups
 * can be held until the test lets them go, and an outage switched on with `down`.
 */
export function fakeCatalog() {
  const products = new Map<string, CatalogProduct>();
  let held: Promise<void> | undefined;
  const client: CatalogClient & {
    /** The ids of every lookup, in order. */
    calls: string[][];
    down: boolean;
    add(product?: Partial<CatalogProduct>): CatalogProduct;
    remove(id: string): void;
    /** Holds every lookup until the returned function is called. */
    hold(): () => void;
  } = {
    calls: [],
    down: false,
    async productsByIds(ids) {
      client.calls.push(ids);
      if (held) await held;
      if (client.down) throw new AppError('upstream_unavailable', 'the catalog is down');
      const items = ids.flatMap((id) => products.get(id) ?? []);
      return { items, missing: ids.filter((id) => !products.has(id)) };
    },
    add(product = {}) {
      const full = {
        id: randomUUID(),
        name: 'Lamp',
        price: 1_250,
        currency: 'USD',
        available: 10,
        ...product,
      };
      products.set(full.id, full);
      return full;
    },
    remove: (id) => void products.delete(id),
    hold() {
      let release = () => {};
      held = new Promise<void>((resolve) => {
        release = () => {
          held = undefined;
          resolve();
        };
      });
      return release;
    },
  };
  return client;
}

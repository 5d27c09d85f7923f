import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import { handleEventOnce } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { serviceName } from '../config.ts';
import type { CatalogTables } from '../tables.ts';
import type { ProductCache } from './cache.ts';
import { applyStockLevel } from './repository.ts';

/** Inventory's stock levels, copied onto products as `available`. */
export const productConsumes = { 'stock.changed': [1] } as const satisfies ConsumedEvents;

export type ProductEventDeps = {
  db: Kysely<CatalogTables>;
  cache: Pick<ProductCache, 'invalidate'>;
  logger: Logger;
};

export function productEventHandlers(
  deps: ProductEventDeps,
): EventHandlers<typeof productConsumes> {
  return {
    'stock.changed': async (event) => {
      const { productId, available, version: stockVersion } = event.data;
      let rowVersion: number | undefined;
      const outcome = await handleEventOnce(
        deps.db,
        { consumer: `${serviceName}.stock-level`, eventId: event.id },
        async (trx) => {
          // Events may arrive out of order: only a newer stock version takes effect.
          rowVersion = await applyStockLevel(trx, productId, { available, stockVersion });
        },
      );
      if (rowVersion !== undefined) {
        await deps.cache.invalidate(productId, rowVersion);
      } else {
        deps.logger.info('stock level not applied', {
          eventId: event.id,
          productId,
          stockVersion,
          reason:
            outcome === 'duplicate' ? 'event seen before' : 'older version, or no such product',
        });
      }
      return 'SUCCESS';
    },
  };
}

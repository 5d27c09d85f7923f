import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { handleEventOnce } from '@shop/platform/db';
import { closeStock, openStock, type StockDeps } from './service.ts';

/** The catalog's events that open and close a product's stock, with the versions read. */
export const stockConsumes = {
  'product.created': [1],
  'product.deleted': [1],
} as const satisfies ConsumedEvents;

export function stockEventHandlers(deps: StockDeps): EventHandlers<typeof stockConsumes> {
  return {
    'product.created': async (event) => {
      let outcome: Awaited<ReturnType<typeof openStock>> | 'duplicate event' = 'duplicate event';
      const receipt = { consumer: 'inventory.open-stock', eventId: event.id };
      await handleEventOnce(deps.db, receipt, async (trx) => {
        // Lower-cased as PostgreSQL prints a uuid, so its stock.changed names it as every later one does.
        const productId = event.data.productId.toLowerCase();
        const input = { ...event.data, productId, eventId: event.id };
        outcome = await openStock(trx, input, new Date());
      });
      deps.outbox.wake();
      deps.logger.info('product stock opened', { productId: event.data.productId, outcome });
      return 'SUCCESS';
    },
    'product.deleted': async (event) => {
      let outcome: Awaited<ReturnType<typeof closeStock>> | 'duplicate event' = 'duplicate event';
      const receipt = { consumer: 'inventory.close-stock', eventId: event.id };
      await handleEventOnce(deps.db, receipt, async (trx) => {
        outcome = await closeStock(trx, event.data.productId, new Date());
      });
      deps.logger.info('product stock closed', { productId: event.data.productId, outcome });
      return 'SUCCESS';
    },
  };
}

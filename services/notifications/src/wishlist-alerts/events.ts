import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import type { NotificationContent } from '../inbox/delivery.ts';
import { type DeliveryCounts, type DeliveryDeps, deliverToUsers } from '../inbox/delivery.ts';
import type { NotificationType } from '../inbox/notification.ts';
import { formatMoney } from '../money.ts';
import type { WishlistAudience } from './audience.ts';
import { applyStockLevel } from './stock-levels.ts';

/** The catalog's and inventory's events that concern wishlisted products, with the versions read. */
export const wishlistAlertConsumes = {
  'product.updated': [1],
  'stock.changed': [1],
} as const satisfies ConsumedEvents;

export type WishlistAlertDeps = DeliveryDeps & { audience: WishlistAudience };

/**
 * Notifies everyone with the product on their wishlist, one page of the audience at a
 * time. A failure part-way throws, so the event is redelivered and starts over: the users
 * already notified are skipped by sourceKey.
 */
async function notifyWishlisters(
  deps: WishlistAlertDeps,
  alert: {
    eventId: string;
    productId: string;
    type: NotificationType;
    content: NotificationContent;
  },
): Promise<DeliveryCounts> {
  const total: DeliveryCounts = { inserted: 0, duplicates: 0, emailed: 0 };
  let cursor: string | null = null;
  do {
    const page = await deps.audience.page(alert.productId, cursor);
    const counts = await deliverToUsers(
      deps,
      {
        eventId: alert.eventId,
        type: alert.type,
        userIds: page.userIds,
        content: () => alert.content,
      },
      new Date(),
    );
    total.inserted += counts.inserted;
    total.duplicates += counts.duplicates;
    total.emailed += counts.emailed;
    cursor = page.nextCursor;
  } while (cursor);
  return total;
}

export function wishlistAlertHandlers(
  deps: WishlistAlertDeps,
): EventHandlers<typeof wishlistAlertConsumes> {
  return {
    'product.updated': async (event) => {
      const { productId, name, price, previousPrice, currency } = event.data;
      if (price >= previousPrice) return 'SUCCESS';
      const counts = await notifyWishlisters(deps, {
        eventId: event.id,
        productId,
        type: 'price_drop',
        content: {
          title: `Price drop: ${name}`,
          body: `${name} now costs ${formatMoney(price, currency)} (was ${formatMoney(previousPrice, currency)}).`,
          data: { productId, name, price, previousPrice, currency },
        },
      });
      deps.logger.info('price drop notified', { productId, ...counts });
      return 'SUCCESS';
    },
    'stock.changed': async (event) => {
      const { productId, available, version } = event.data;
      const outcome = await applyStockLevel(deps.db, { productId, available, version });
      if (outcome !== 'back_in_stock') return 'SUCCESS';
      const counts = await notifyWishlisters(deps, {
        eventId: event.id,
        productId,
        type: 'back_in_stock',
        content: {
          title: 'Back in stock',
          body: `A product on your wishlist is available again (${available} in stock).`,
          data: { productId, available },
        },
      });
      deps.logger.info('back in stock notified', { productId, version, ...counts });
      return 'SUCCESS';
    },
  };
}

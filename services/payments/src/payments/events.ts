import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { cancelOrder, chargeOrder, type PaymentsDeps, rememberOrder } from './service.ts';

/** The saga's events that move an order's payment, with the versions payments reads. */
export const paymentsConsumes = {
  'order.created': [1],
  'stock.reserved': [1],
  'order.cancelled': [1],
} as const satisfies ConsumedEvents;

const delivery = { done: 'SUCCESS', retry: 'RETRY' } as const;

export function paymentEventHandlers(deps: PaymentsDeps): EventHandlers<typeof paymentsConsumes> {
  return {
    'order.created': async (event) => {
      const { data } = event;
      await rememberOrder(deps, event.id, {
        orderId: data.orderId,
        userId: data.userId,
        total: data.total,
        currency: data.currency,
        paymentMethod: data.paymentMethod,
        createdAt: new Date(data.createdAt),
      });
      return 'SUCCESS';
    },
    'stock.reserved': async (event) => delivery[await chargeOrder(deps, event.data.orderId)],
    'order.cancelled': async (event) =>
      delivery[
        await cancelOrder(deps, event.id, {
          orderId: event.data.orderId,
          cancelledAt: new Date(event.data.cancelledAt),
        })
      ],
  };
}

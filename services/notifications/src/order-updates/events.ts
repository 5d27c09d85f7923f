import type { ConsumedEvents, cancelReasons, EventHandlers } from '@shop/platform';
import { type DeliveryDeps, deliverToUsers } from '../inbox/delivery.ts';
import { formatMoney } from '../money.ts';

/** The orders service's outcomes of a checkout, with the versions read. */
export const orderUpdateConsumes = {
  'order.confirmed': [1],
  'order.cancelled': [1],
} as const satisfies ConsumedEvents;

/** Why an order was cancelled, as the customer reads it after "Your order was cancelled: ". */
export const cancelReasonInWords: Record<(typeof cancelReasons)[number], string> = {
  out_of_stock: 'some items were out of stock',
  payment_declined: 'the payment was declined',
  customer_request: 'you asked us to cancel it',
  expired: 'it was not completed in time',
};

export function orderUpdateHandlers(deps: DeliveryDeps): EventHandlers<typeof orderUpdateConsumes> {
  return {
    'order.confirmed': async (event) => {
      const { orderId, userId, total, currency } = event.data;
      const counts = await deliverToUsers(
        deps,
        {
          eventId: event.id,
          type: 'order_confirmed',
          userIds: [userId],
          content: () => ({
            title: 'Order confirmed',
            body: `Your order of ${formatMoney(total, currency)} is confirmed.`,
            data: { orderId, total, currency },
          }),
        },
        new Date(),
      );
      deps.logger.info('order confirmation delivered', { orderId, ...counts });
      return 'SUCCESS';
    },
    'order.cancelled': async (event) => {
      const { orderId, userId, reason } = event.data;
      const counts = await deliverToUsers(
        deps,
        {
          eventId: event.id,
          type: 'order_cancelled',
          userIds: [userId],
          content: () => ({
            title: 'Order cancelled',
            body: `Your order was cancelled: ${cancelReasonInWords[reason]}.`,
            data: { orderId, reason },
          }),
        },
        new Date(),
      );
      deps.logger.info('order cancellation delivered', { orderId, ...counts });
      return 'SUCCESS';
    },
  };
}

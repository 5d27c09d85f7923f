import { randomUUID } from 'node:crypto';
import {
  createProductWithStock,
  placeOrder,
  timelineOf,
  waitForSettled,
} from '@shop/devkit/testing';
import { expect } from 'vitest';
import type { SagaShop } from './shop.ts';

/** Publishes each event twice, in the order given, through its producer's sidecar. */
export async function deliverTwice(
  { shop }: SagaShop,
  events: Array<{ type: string; id: string; source: string } | undefined>,
): Promise<void> {
  const present = events.map((event) => {
    if (!event) throw new Error('an event to deliver again is not on the timeline');
    return event;
  });
  for (const event of present) await shop.publish(event, event.source);
  for (const event of present) await shop.publish(event, event.source);
}

/**
 * Lets the redeliveries be consumed: waits until orders has recorded `marker` (an event
 * with a new id, published last), then until one more order, placed after them, settles.
 */
export async function quiesce(saga: SagaShop, orderId: string, markerId: string): Promise<void> {
  const { shop, adminToken, token } = saga;
  await expect
    .poll(async () => (await timelineOf(shop, token, orderId)).map((e) => e.eventId), {
      timeout: 20_000,
    })
    .toContain(markerId);
  const sentinel = await createProductWithStock(shop, adminToken, {
    sku: `SAGA-SENTINEL-${randomUUID().slice(0, 8)}`,
    stock: 1,
  });
  const { order } = await placeOrder(shop, token, {
    items: [{ productId: sentinel.id, quantity: 1 }],
    paymentMethod: 'pm_card_visa',
  });
  await waitForSettled(shop, token, order.id);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}

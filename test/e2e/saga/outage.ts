import { pollUntil } from '@shop/devkit/process';
import {
  adminOrders,
  createProductWithStock,
  handledDeliveries,
  placeOrder,
  stockOf,
  timelineOf,
  waitForTerminal,
} from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { SagaShop } from './support/shop.ts';
import { idOf } from './support/views.ts';

/** A consumer (inventory and its sidecar) down while orders are placed gets every event when it is back. */
export function describeConsumerOutage(saga: SagaShop): void {
  describe('a consumer down while its events are published', () => {
    it('inventory, down with its sidecar while orders are placed, gets every order.created when it is back', async () => {
      const { shop, adminToken, token } = saga;
      const product = await createProductWithStock(shop, adminToken, {
        sku: 'SAGA-CONSUMER-DOWN',
        stock: 20,
      });
      await shop.kill('inventory');
      await shop.kill('inventory-dapr');
      // Orders takes the checkouts and publishes order.created with no inventory listening.
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const { order } = await placeOrder(shop, token, {
          items: [{ productId: product.id, quantity: 1 }],
          paymentMethod: 'pm_card_visa',
        });
        ids.push(order.id);
      }
      // Payments, the other subscriber of order.created, has handled each: the events are
      // out, and only inventory's absence can be keeping the orders pending.
      const created = await Promise.all(
        ids.map(async (id) => idOf(await timelineOf(shop, token, id), 'placed')),
      );
      await pollUntil(
        () =>
          created.every((id) => handledDeliveries(shop, 'payments', id) > 0) ? true : undefined,
        { what: 'payments to handle each order.created', timeoutMs: 30_000 },
      );
      const pending = new Set((await adminOrders(shop, adminToken, 'pending')).map((o) => o.id));
      expect(ids.filter((id) => pending.has(id))).toEqual(ids);

      await shop.restart('inventory-dapr');
      await shop.restart('inventory');
      const settled = await waitForTerminal(shop, adminToken, ids, { timeoutMs: 60_000 });
      expect([...settled.values()].map((order) => order.status)).toEqual(
        ids.map(() => 'confirmed'),
      );
      await expect
        .poll(() => stockOf(shop, adminToken, product.id), { timeout: 30_000 })
        .toMatchObject({ available: 12, reserved: 0, sold: 8 });
    }, 150_000);
  });
}

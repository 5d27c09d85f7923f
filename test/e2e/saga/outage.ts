import {
  adminOrders,
  createProductWithStock,
  placeOrder,
  stockOf,
  waitForTerminal,
} from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { SagaShop } from './support/shop.ts';

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
      await new Promise((resolve) => setTimeout(resolve, 2_000));
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

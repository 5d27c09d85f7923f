import {
  createProductWithStock,
  paymentsOf,
  placeOrder,
  stockOf,
  timelineOf,
  waitForSettled,
} from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { SagaShop } from './support/shop.ts';
import { stepsOf, succeeded } from './support/views.ts';

/** Checkouts that confirm, decline, run out of stock and are refunded after cancellation. */
export function describeCheckouts(saga: SagaShop): void {
  describe('checkout through every service', () => {
    let skus = 0;
    const productWithStock = (stock: number) =>
      createProductWithStock(saga.shop, saga.adminToken, { sku: `CHECKOUT-${++skus}`, stock });
    const order = async (productId: string, quantity: number, paymentMethod: string) => {
      const { order } = await placeOrder(saga.shop, saga.token, {
        items: [{ productId, quantity }],
        paymentMethod,
      });
      expect(order.status).toBe('pending');
      return order;
    };
    const steps = async (orderId: string) =>
      stepsOf(await timelineOf(saga.shop, saga.token, orderId));

    it('confirms an order paid with pm_card_visa, with a full timeline, and sells its stock', async () => {
      const { shop, adminToken, token } = saga;
      const product = await productWithStock(5);
      const placed = await order(product.id, 2, 'pm_card_visa');
      expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
        status: 'confirmed',
        total: 5_000,
      });
      expect(await steps(placed.id)).toEqual([
        'placed',
        'stock_reserved',
        'payment_succeeded',
        'confirmed',
      ]);
      expect(await paymentsOf(shop, adminToken, placed.id)).toEqual([
        expect.objectContaining({ kind: 'charge', status: 'succeeded', amount: 5_000 }),
      ]);
      await expect
        .poll(() => stockOf(shop, adminToken, product.id))
        .toMatchObject({ available: 3, reserved: 0, sold: 2 });
    });

    it('cancels a declined order as payment_declined and releases its stock', async () => {
      const { shop, adminToken, token } = saga;
      const product = await productWithStock(4);
      const placed = await order(product.id, 3, 'pm_card_chargeDeclined');
      expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
        status: 'cancelled',
        cancelReason: 'payment_declined',
      });
      await expect
        .poll(() => stockOf(shop, adminToken, product.id))
        .toMatchObject({ available: 4, reserved: 0, sold: 0 });
    });

    it('cancels an order inventory cannot fill as out_of_stock, and charges nothing', async () => {
      const { shop, adminToken, token } = saga;
      const product = await productWithStock(1);
      const placed = await order(product.id, 2, 'pm_card_visa');
      expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
        status: 'cancelled',
        cancelReason: 'out_of_stock',
      });
      expect(await steps(placed.id)).toEqual(['placed', 'stock_rejected', 'cancelled']);
      expect(
        (await paymentsOf(shop, adminToken, placed.id)).filter((p) => p.kind === 'charge'),
      ).toEqual([]);
      expect(await stockOf(shop, adminToken, product.id)).toMatchObject({
        available: 1,
        reserved: 0,
        sold: 0,
      });
    });

    it('refunds an order its customer cancels after confirmation, and returns its stock', async () => {
      const { shop, adminToken, token } = saga;
      const product = await productWithStock(3);
      const placed = await order(product.id, 1, 'pm_card_visa');
      expect((await waitForSettled(shop, token, placed.id)).status).toBe('confirmed');
      const res = await shop.send('POST', `/api/v1/orders/${placed.id}/cancel`, { token });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'cancelled',
        cancelReason: 'customer_request',
      });
      await expect
        .poll(
          async () =>
            succeeded(await paymentsOf(shop, adminToken, placed.id), 'refund').map((p) => p.amount),
          { timeout: 60_000, interval: 250 },
        )
        .toEqual([2_500]);
      await expect.poll(() => steps(placed.id)).toContain('payment_refunded');
      await expect
        .poll(() => stockOf(shop, adminToken, product.id))
        .toMatchObject({ available: 3, reserved: 0, sold: 0 });
    });
  });
}

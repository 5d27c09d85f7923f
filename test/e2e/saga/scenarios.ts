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

let skus = 0;
const productWithStock = ({ shop, adminToken }: SagaShop, stock: number) =>
  createProductWithStock(shop, adminToken, { sku: `CHECKOUT-${++skus}`, stock });

/** Places an order of one line, which must be pending. */
async function order(saga: SagaShop, productId: string, quantity: number, paymentMethod: string) {
  const { order } = await placeOrder(saga.shop, saga.token, {
    items: [{ productId, quantity }],
    paymentMethod,
  });
  expect(order.status).toBe('pending');
  return order;
}

const steps = async ({ shop, token }: SagaShop, orderId: string) =>
  stepsOf(await timelineOf(shop, token, orderId));

/** Checkouts that confirm, decline, run out of stock and are refunded after cancellation. */
export function describeCheckouts(saga: SagaShop): void {
  describe('checkout through every service', () => {
    it('confirms an order paid with pm_card_visa, with a full timeline, and sells its stock', () =>
      confirms(saga));
    it('cancels a declined order as payment_declined and releases its stock', () => declines(saga));
    it('cancels an order inventory cannot fill as out_of_stock, and charges nothing', () =>
      runsOutOfStock(saga));
    it('refunds an order its customer cancels after confirmation, and returns its stock', () =>
      refundsAfterCancellation(saga));
  });
}

async function confirms(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const product = await productWithStock(saga, 5);
  const placed = await order(saga, product.id, 2, 'pm_card_visa');
  expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
    status: 'confirmed',
    total: 5_000,
  });
  expect(await steps(saga, placed.id)).toEqual([
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
}

async function declines(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const product = await productWithStock(saga, 4);
  const placed = await order(saga, product.id, 3, 'pm_card_chargeDeclined');
  expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
    status: 'cancelled',
    cancelReason: 'payment_declined',
  });
  await expect
    .poll(() => stockOf(shop, adminToken, product.id))
    .toMatchObject({ available: 4, reserved: 0, sold: 0 });
}

async function runsOutOfStock(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const product = await productWithStock(saga, 1);
  const placed = await order(saga, product.id, 2, 'pm_card_visa');
  expect(await waitForSettled(shop, token, placed.id)).toMatchObject({
    status: 'cancelled',
    cancelReason: 'out_of_stock',
  });
  expect(await steps(saga, placed.id)).toEqual(['placed', 'stock_rejected', 'cancelled']);
  expect(
    (await paymentsOf(shop, adminToken, placed.id)).filter((p) => p.kind === 'charge'),
  ).toEqual([]);
  expect(await stockOf(shop, adminToken, product.id)).toMatchObject({
    available: 1,
    reserved: 0,
    sold: 0,
  });
}

async function refundsAfterCancellation(saga: SagaShop): Promise<void> {
  const { shop, adminToken, token } = saga;
  const product = await productWithStock(saga, 3);
  const placed = await order(saga, product.id, 1, 'pm_card_visa');
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
  await expect.poll(() => steps(saga, placed.id)).toContain('payment_refunded');
  await expect
    .poll(() => stockOf(shop, adminToken, product.id))
    .toMatchObject({ available: 3, reserved: 0, sold: 0 });
}

import type { BrokerProfile } from '@shop/devkit/brokers';
import {
  checkInvariants,
  eventFixture,
  type OrderView,
  type PaymentView,
  paymentsOf,
  readJson,
  stockOf,
  type TimelineEntry,
  timelineOf,
} from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { deliverTwice, quiesce } from './support/redeliver.ts';
import { type SagaShop, useSagaShop } from './support/shop.ts';
import { idOf, settledOrder, stepsOf, succeeded } from './support/views.ts';

const orderTtlSeconds = 1;

/** An order that expires while the payment processor is slow: cancelled, charge refunded. */
export function describeExpiry(broker: BrokerProfile): void {
  describe(`an order that expires while the payment processor is slow, on ${broker}`, () => {
    // The processor takes 9 s a call; the order expires after 1 s (the sweep runs every 5 s).
    const saga = useSagaShop(broker, {
      orders: { ORDER_TTL_SECONDS: String(orderTtlSeconds) },
      payments: { PAYMENT_TEST_DELAY_MS: '9000' },
    });

    it('is cancelled as expired, its late charge refunded and its stock released', async () => {
      const { order, timeline, charge } = await expiredAndRefunded(saga);
      await lateChargeAgainChangesNothing(saga, order, timeline, charge);
      const { shop, adminToken } = saga;
      expect(
        await checkInvariants(
          { baseUrl: shop.gatewayUrl as string, adminToken },
          { orderTtlSeconds },
        ),
      ).toEqual([]);
    }, 120_000);
  });
}

/** Waits for a charge and a refund of `orderId`, and returns its payments then. */
async function chargedAndRefunded({ shop, adminToken }: SagaShop, orderId: string) {
  await expect
    .poll(() => paymentsOf(shop, adminToken, orderId), { timeout: 60_000, interval: 500 })
    .toSatisfy(
      (items: PaymentView[]) =>
        succeeded(items, 'charge').length === 1 && succeeded(items, 'refund').length === 1,
    );
  return paymentsOf(shop, adminToken, orderId);
}

/** An order placed on the slow processor: expired, its late charge refunded, stock back. */
async function expiredAndRefunded(saga: SagaShop) {
  const { shop, adminToken, token } = saga;
  const { productId, order, settled } = await settledOrder(saga, {
    sku: 'SAGA-SLOW',
    stock: 5,
    quantity: 2,
    paymentMethod: 'pm_card_visa',
    timeoutMs: 30_000,
  });
  expect(settled).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });

  // The charge the processor was busy with lands after the expiry, and goes back.
  const payments = await chargedAndRefunded(saga, order.id);
  expect(payments).toHaveLength(2);
  expect(succeeded(payments, 'charge')[0]).toMatchObject({ amount: order.total });
  expect(succeeded(payments, 'refund')[0]).toMatchObject({ amount: order.total });

  await expect
    .poll(async () => stepsOf(await timelineOf(shop, token, order.id)), { timeout: 20_000 })
    .toContain('payment_refunded');
  const timeline = await timelineOf(shop, token, order.id);
  expect(stepsOf(timeline)).not.toContain('confirmed');
  expect(timeline.filter((e) => e.step === 'cancelled')).toEqual([
    expect.objectContaining({ detail: 'expired' }),
  ]);
  expect(stepsOf(timeline)).toContain('payment_succeeded');
  await expect
    .poll(() => stockOf(shop, adminToken, productId), { timeout: 20_000 })
    .toMatchObject({ available: 5, reserved: 0, sold: 0 });
  return { order, timeline, charge: succeeded(payments, 'charge')[0] as PaymentView };
}

/**
 * The late payment.succeeded delivered again, after the cancellation: still cancelled,
 * still one charge and one refund.
 */
async function lateChargeAgainChangesNothing(
  saga: SagaShop,
  order: OrderView,
  timeline: TimelineEntry[],
  charge: PaymentView,
): Promise<void> {
  const { shop, adminToken, token } = saga;
  const late = eventFixture(
    'payment.succeeded',
    {
      orderId: order.id,
      paymentId: charge.id,
      amount: charge.amount,
      currency: charge.currency,
      provider: charge.provider,
      providerRef: charge.providerRef as string,
      succeededAt: charge.createdAt,
    },
    { id: idOf(timeline, 'payment_succeeded') },
  );
  await deliverTwice(saga, [late]);
  await quiesce(saga);
  expect(await readJson<OrderView>(shop, `/api/v1/orders/${order.id}`, token)).toMatchObject({
    status: 'cancelled',
    cancelReason: 'expired',
  });
  expect(await paymentsOf(shop, adminToken, order.id)).toHaveLength(2);
  expect(await timelineOf(shop, token, order.id)).toEqual(timeline);
}

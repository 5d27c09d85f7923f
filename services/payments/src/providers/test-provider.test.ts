import { describe, expect, it } from 'vitest';
import { createTestPaymentProvider } from './test-provider.ts';

const charge = (paymentMethod: string, idempotencyKey: string = crypto.randomUUID()) => ({
  orderId: crypto.randomUUID(),
  amount: 1_000,
  currency: 'USD',
  paymentMethod,
  idempotencyKey,
});

describe('the test payment provider', () => {
  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_insufficientFunds', 'insufficient_funds'],
    ['pm_card_unknown', 'processing_error'],
  ])('declines %s with %s', async (paymentMethod, reason) => {
    const provider = createTestPaymentProvider();
    expect(await provider.charge(charge(paymentMethod))).toEqual({ status: 'failed', reason });
  });

  it('charges pm_card_visa, and answers a repeated key with the first answer', async () => {
    const provider = createTestPaymentProvider();
    const first = await provider.charge(charge('pm_card_visa', 'key-1'));
    expect(first).toEqual({ status: 'succeeded', providerRef: expect.stringMatching(/^test_ch_/) });
    expect(await provider.charge(charge('pm_card_visa', 'key-1'))).toEqual(first);
    expect(await provider.charge(charge('pm_card_visa', 'key-2'))).not.toEqual(first);
  });

  it('refunds once per key', async () => {
    const provider = createTestPaymentProvider({ delayMs: 1 });
    const request = { chargeRef: 'test_ch_1', amount: 1_000, idempotencyKey: 'refund-1' };
    const first = await provider.refund(request);
    expect(first.providerRef).toMatch(/^test_re_/);
    expect(await provider.refund(request)).toEqual(first);
  });
});

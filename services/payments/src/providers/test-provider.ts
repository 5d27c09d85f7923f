import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ChargeOutcome,
  PaymentFailureReason,
  PaymentProvider,
  RefundOutcome,
} from './provider.ts';

/** The card processors' test payment methods this provider knows, and how each one ends. */
const declines: Record<string, PaymentFailureReason> = {
  pm_card_chargeDeclined: 'card_declined',
  pm_card_insufficientFunds: 'insufficient_funds',
};

/**
 * The default provider, in process: `pm_card_visa` succeeds, `pm_card_chargeDeclined` and
 * `pm_card_insufficientFunds` are declined with that reason, anything else fails as a
 * processing error. Like a real processor it answers a repeated idempotency key with its
 * first answer; it keeps those in memory, which is enough because the database already
 * lets one charge per order through.
 */
export function createTestPaymentProvider(options: { delayMs?: number } = {}): PaymentProvider {
  const delayMs = options.delayMs ?? 0;
  const charges = new Map<string, ChargeOutcome>();
  const refunds = new Map<string, RefundOutcome>();
  const slowly = async () => {
    if (delayMs > 0) await sleep(delayMs);
  };
  return {
    name: 'test',
    async charge({ paymentMethod, idempotencyKey }) {
      await slowly();
      let outcome = charges.get(idempotencyKey);
      if (!outcome) {
        const declined = declines[paymentMethod];
        if (declined) outcome = { status: 'failed', reason: declined };
        else if (paymentMethod === 'pm_card_visa')
          outcome = { status: 'succeeded', providerRef: `test_ch_${randomUUID()}` };
        else outcome = { status: 'failed', reason: 'processing_error' };
        charges.set(idempotencyKey, outcome);
      }
      return outcome;
    },
    async refund({ idempotencyKey }) {
      await slowly();
      let outcome = refunds.get(idempotencyKey);
      if (!outcome) {
        outcome = { providerRef: `test_re_${randomUUID()}` };
        refunds.set(idempotencyKey, outcome);
      }
      return outcome;
    },
  };
}

import type { eventCatalog } from '@shop/platform';
import type { z } from 'zod';

/** Why a charge did not go through, in the words of `payment.failed`. */
export type PaymentFailureReason = z.infer<
  (typeof eventCatalog)['payment.failed']['versions'][1]
>['reason'];

export type ChargeRequest = {
  orderId: string;
  /** Minor units of `currency`. */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** A test payment method, e.g. `pm_card_visa`. */
  paymentMethod: string;
  /** The same key for every attempt at one charge, so the provider charges once however often it is asked. */
  idempotencyKey: string;
};

/** The processor's answer; a decline is an answer, not an error. */
export type ChargeOutcome =
  | { status: 'succeeded'; providerRef: string }
  | { status: 'failed'; reason: PaymentFailureReason };

export type RefundRequest = {
  /** The `providerRef` of the charge to give back. */
  chargeRef: string;
  amount: number;
  idempotencyKey: string;
};

export type RefundOutcome = { providerRef: string };

/**
 * A payment processor. A call that throws has an unknown outcome (a timeout, the processor
 * down): the caller tries again later with the same idempotency key, which the provider
 * must honour so that no retry charges or refunds twice.
 */
export type PaymentProvider = {
  /** Recorded with every payment, e.g. `test` or `stripe`. */
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  refund(request: RefundRequest): Promise<RefundOutcome>;
};

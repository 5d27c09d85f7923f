import { Counter, type Registry } from 'prom-client';

export type ChargeMetricOutcome = 'succeeded' | 'declined' | 'error';

export type PaymentMetrics = {
  /** A charge's answer recorded (succeeded, declined), or an attempt the processor did not answer (error). */
  charged(outcome: ChargeMetricOutcome): void;
  /** A refund recorded as done. */
  refunded(): void;
};

/**
 * Payments' business counters on `registry`. A charge is counted when its answer is
 * recorded (once per charge, however often its event is redelivered); `error` counts each
 * attempt the processor failed to answer, after the in-process retry.
 */
export function paymentMetrics(registry: Registry): PaymentMetrics {
  const charges = new Counter({
    name: 'payments_charges_total',
    help: 'Charges by outcome: succeeded, declined, or error (the processor did not answer; retried later)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const refunds = new Counter({
    name: 'payments_refunds_total',
    help: 'Refunds the processor made',
    registers: [registry],
  });
  return {
    charged: (outcome) => charges.inc({ outcome }),
    refunded: () => refunds.inc(),
  };
}

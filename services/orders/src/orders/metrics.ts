import { Counter, Histogram, type Registry } from 'prom-client';
import type { TimelineEntry } from './repository.ts';
import type { CancelReason, TimelineStep } from './schemas.ts';
import type { Settlement } from './transitions.ts';

/** The dashboards' closed set of cancellation reasons, by the order's own reason. */
const reasonLabel: Record<CancelReason, string> = {
  out_of_stock: 'stock_rejected',
  payment_declined: 'payment_failed',
  expired: 'expired',
  customer_request: 'other',
};

/** Each measured step of the saga, between two steps of the order's timeline. */
const sagaSteps: ReadonlyArray<readonly [string, TimelineStep, TimelineStep]> = [
  ['placed_to_reserved', 'placed', 'stock_reserved'],
  ['reserved_to_paid', 'stock_reserved', 'payment_succeeded'],
  ['paid_to_confirmed', 'payment_succeeded', 'confirmed'],
  ['placed_to_confirmed', 'placed', 'confirmed'],
];

export type OrderMetrics = {
  /** An order and its order.created committed. */
  placed(order: { currency: string }): void;
  /** A confirmation or cancellation committed. */
  settled(settlement: Settlement): void;
};

/**
 * The checkout's business counters on `registry`; each is counted by the caller once the
 * transaction that made the fact has committed, so a rollback counts nothing and a
 * redelivered event (which changes nothing) counts nothing again.
 */
export function orderMetrics(registry: Registry): OrderMetrics {
  const registers = [registry];
  const placed = new Counter({
    name: 'orders_placed_total',
    help: 'Orders accepted (202) and announced with order.created',
    labelNames: ['currency'],
    registers,
  });
  const confirmed = new Counter({
    name: 'orders_confirmed_total',
    help: 'Orders confirmed (paid and reserved)',
    labelNames: ['currency'],
    registers,
  });
  const cancelled = new Counter({
    name: 'orders_cancelled_total',
    help: 'Orders cancelled, by reason: stock_rejected, payment_failed, expired, other (the customer)',
    labelNames: ['reason'],
    registers,
  });
  const revenue = new Counter({
    name: 'orders_revenue_minor_total',
    help: 'Sum of the totals of confirmed orders, in minor units of the currency',
    labelNames: ['currency'],
    registers,
  });
  const stepSeconds = new Histogram({
    name: 'saga_step_duration_seconds',
    help: "Time between two steps of a confirmed order's timeline, observed at its confirmation",
    labelNames: ['step'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers,
  });
  const observeSteps = (timeline: TimelineEntry[]) => {
    const at = (step: TimelineStep) => timeline.find((entry) => entry.step === step)?.at;
    for (const [name, from, to] of sagaSteps) {
      const [start, end] = [at(from), at(to)];
      // A step whose event arrives after the confirmation (reordered) is not measured.
      if (!start || !end) continue;
      // Other services' clocks stamp some steps: a skew must not give a negative time.
      stepSeconds.observe({ step: name }, Math.max(0, end.getTime() - start.getTime()) / 1000);
    }
  };
  return {
    placed: (order) => placed.inc({ currency: order.currency }),
    settled(settlement) {
      if (settlement.status === 'cancelled') {
        cancelled.inc({ reason: reasonLabel[settlement.reason] });
        return;
      }
      confirmed.inc({ currency: settlement.currency });
      revenue.inc({ currency: settlement.currency }, settlement.total);
      observeSteps(settlement.timeline);
    },
  };
}

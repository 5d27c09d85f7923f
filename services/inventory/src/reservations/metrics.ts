import { Counter, type Registry } from 'prom-client';

export type ReservationMetrics = {
  /** An order's reservation decided and committed: every line reserved, or none. */
  decided(outcome: 'reserved' | 'rejected'): void;
};

/** `inventory_reservations_total{outcome}`: one per order, counted once its decision commits. */
export function reservationMetrics(registry: Registry): ReservationMetrics {
  const reservations = new Counter({
    name: 'inventory_reservations_total',
    help: "Orders' stock reservations by outcome: reserved (every line) or rejected (some line short)",
    labelNames: ['outcome'],
    registers: [registry],
  });
  return { decided: (outcome) => reservations.inc({ outcome }) };
}

import { randomUUID } from 'node:crypto';
import { buildEvent, type Logger } from '@shop/platform';
import { enqueueEvent, handleEventOnce, type OutboxRelay } from '@shop/platform/db';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Kysely, Transaction } from 'kysely';
import { serviceName } from '../config.ts';
import type { ChargeOutcome, PaymentProvider } from '../providers/provider.ts';
import type { PaymentsTables } from '../tables.ts';
import type { PaymentMetrics } from './metrics.ts';
import {
  findOrderToCharge,
  findPayment,
  insertOrderToCharge,
  insertPendingPayment,
  isCancelled,
  lockOrder,
  type OrderToCharge,
  type Payment,
  recordCancellation,
  settlePendingPayment,
} from './repository.ts';

export type PaymentsDeps = {
  db: Kysely<PaymentsTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  provider: PaymentProvider;
  logger: Logger;
  metrics: PaymentMetrics;
};

/** What the caller tells the broker: done, or deliver the event again later. */
export type Progress = 'done' | 'retry';

// A blip at the processor is ridden out here; a longer outage is left to the broker's
// redelivery (components/common/resiliency.yaml), which resumes the same pending payment.
const providerRetry = retry(handleAll, {
  maxAttempts: 2,
  backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1_000 }),
});

/** One key per order and kind, so every attempt at one charge (or refund) is the same one to the processor. */
const chargeIdempotencyKey = (orderId: string) => orderId;
export const refundIdempotencyKey = (orderId: string) => `${orderId}:refund`;

/** Remembers what `order.created` says the order will need charged. */
export async function rememberOrder(
  deps: Pick<PaymentsDeps, 'db'>,
  eventId: string,
  order: OrderToCharge,
): Promise<void> {
  await handleEventOnce(
    deps.db,
    { consumer: `${serviceName}.remember-order`, eventId },
    async (trx) => {
      await lockOrder(trx, order.orderId);
      await insertOrderToCharge(trx, order);
    },
  );
}

/**
 * Charges the order once its stock is reserved. The pending charge is recorded before the
 * processor is called, so a crash mid-call leaves a row that the next delivery resumes with
 * the same idempotency key instead of starting a second charge. An order not announced yet
 * (`order.created` travels on another topic) is asked for again; a cancelled one is never
 * charged.
 */
export async function chargeOrder(deps: PaymentsDeps, orderId: string): Promise<Progress> {
  const found = await deps.db.transaction().execute(async (trx) => {
    await lockOrder(trx, orderId);
    const order = await findOrderToCharge(trx, orderId);
    if (!order) return 'unknown';
    if (await isCancelled(trx, orderId)) return 'cancelled';
    await insertPendingPayment(trx, {
      id: randomUUID(),
      orderId,
      kind: 'charge',
      amount: order.total,
      currency: order.currency,
      provider: deps.provider.name,
      at: new Date(),
    });
    return 'charge';
  });
  if (found === 'unknown') {
    deps.logger.info('stock reserved for an order not known yet; asking again', { orderId });
    return 'retry';
  }
  if (found === 'cancelled') {
    deps.logger.info('order cancelled before it was charged; not charging it', { orderId });
    return 'done';
  }
  return settleOrder(deps, orderId);
}

/**
 * Remembers the cancellation, so a charge that has not started never starts, and refunds a
 * charge that went through (once: the refund is unique per order too). A charge still in
 * flight is driven to its answer here, and refunded if it succeeded.
 */
export async function cancelOrder(
  deps: PaymentsDeps,
  eventId: string,
  cancellation: { orderId: string; cancelledAt: Date },
): Promise<Progress> {
  const { orderId } = cancellation;
  await handleEventOnce(
    deps.db,
    { consumer: `${serviceName}.cancel-order`, eventId },
    async (trx) => {
      await lockOrder(trx, orderId);
      await recordCancellation(trx, orderId, cancellation.cancelledAt);
      const charge = await findPayment(trx, orderId, 'charge');
      if (charge?.status === 'succeeded') await insertPendingRefund(trx, charge);
    },
  );
  // Also on a duplicate: the first delivery may have stopped before the refund went out.
  return settleOrder(deps, orderId);
}

/** The refund gives back what the charge took, through the provider that took it. */
async function insertPendingRefund(trx: Transaction<PaymentsTables>, charge: Payment) {
  await insertPendingPayment(trx, {
    id: randomUUID(),
    orderId: charge.orderId,
    kind: 'refund',
    amount: charge.amount,
    currency: charge.currency,
    provider: charge.provider,
    at: new Date(),
  });
}

/**
 * Finishes whatever the order has pending: the charge's answer from the processor, then a
 * refund. Safe to run any number of times, concurrently too: the processor sees the same
 * idempotency key each time and only the first recorded answer publishes an event.
 */
async function settleOrder(deps: PaymentsDeps, orderId: string): Promise<Progress> {
  try {
    const charge = await findPayment(deps.db, orderId, 'charge');
    if (charge?.status === 'pending') await completeCharge(deps, charge);
    const refund = await findPayment(deps.db, orderId, 'refund');
    if (refund?.status === 'pending') await completeRefund(deps, refund);
    return 'done';
  } catch (error) {
    if (!(error instanceof ProviderUnavailableError)) throw error;
    deps.logger.warn('payment provider unavailable; asking for redelivery', {
      orderId,
      error: error.cause,
    });
    return 'retry';
  }
}

class ProviderUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the payment provider did not answer', { cause });
    this.name = 'ProviderUnavailableError';
  }
}

async function askProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await providerRetry.execute(call);
  } catch (error) {
    throw new ProviderUnavailableError(error);
  }
}

async function completeCharge(deps: PaymentsDeps, charge: Payment): Promise<void> {
  const order = await findOrderToCharge(deps.db, charge.orderId);
  if (!order) throw new Error(`charge ${charge.id} has no order ${charge.orderId}`);
  const outcome: ChargeOutcome = await askProvider(() =>
    deps.provider.charge({
      orderId: order.orderId,
      amount: charge.amount,
      currency: charge.currency,
      paymentMethod: order.paymentMethod,
      idempotencyKey: chargeIdempotencyKey(order.orderId),
    }),
  ).catch((error: unknown) => {
    deps.metrics.charged('error');
    throw error;
  });
  const at = new Date();
  const recorded = await deps.db.transaction().execute(async (trx) => {
    await lockOrder(trx, charge.orderId);
    if (!(await settlePendingPayment(trx, charge.id, { ...outcome, at }))) return false;
    if (outcome.status === 'failed') {
      await enqueueEvent(
        trx,
        buildEvent(
          'payment.failed',
          { orderId: charge.orderId, reason: outcome.reason, failedAt: at.toISOString() },
          { source: serviceName },
        ),
      );
      return true;
    }
    await enqueueEvent(
      trx,
      buildEvent(
        'payment.succeeded',
        {
          orderId: charge.orderId,
          paymentId: charge.id,
          amount: charge.amount,
          currency: charge.currency,
          provider: charge.provider,
          providerRef: outcome.providerRef,
          succeededAt: at.toISOString(),
        },
        { source: serviceName },
      ),
    );
    // The order expired (or was cancelled) while it was being charged: the money goes back.
    if (await isCancelled(trx, charge.orderId)) {
      await insertPendingRefund(trx, charge);
    }
    return true;
  });
  if (recorded) {
    deps.metrics.charged(outcome.status === 'succeeded' ? 'succeeded' : 'declined');
    deps.outbox.wake();
    deps.logger.info('charge settled', { orderId: charge.orderId, status: outcome.status });
  }
}

async function completeRefund(deps: PaymentsDeps, refund: Payment): Promise<void> {
  const charge = await findPayment(deps.db, refund.orderId, 'charge');
  if (!charge?.providerRef) throw new Error(`refund ${refund.id} has no settled charge`);
  const chargeRef = charge.providerRef;
  const outcome = await askProvider(() =>
    deps.provider.refund({
      chargeRef,
      amount: refund.amount,
      idempotencyKey: refundIdempotencyKey(refund.orderId),
    }),
  );
  const at = new Date();
  const recorded = await deps.db.transaction().execute(async (trx) => {
    await lockOrder(trx, refund.orderId);
    const settled = { status: 'succeeded', providerRef: outcome.providerRef, at } as const;
    if (!(await settlePendingPayment(trx, refund.id, settled))) return false;
    await enqueueEvent(
      trx,
      buildEvent(
        'payment.refunded',
        {
          orderId: refund.orderId,
          paymentId: charge.id,
          refundId: refund.id,
          amount: refund.amount,
          currency: refund.currency,
          refundedAt: at.toISOString(),
        },
        { source: serviceName },
      ),
    );
    return true;
  });
  if (recorded) {
    deps.metrics.refunded();
    deps.outbox.wake();
    deps.logger.info('refund settled', { orderId: refund.orderId });
  }
}

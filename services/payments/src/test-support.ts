import {
  createTestTokens,
  type DatabaseBackend,
  eventFixture,
  useServiceApp,
} from '@shop/devkit/testing';
import { createMemoryDeadLetterStore } from '@shop/platform';
import { createApp } from './app.ts';
import type { ChargeRequest, PaymentProvider, RefundRequest } from './providers/provider.ts';
import { createTestPaymentProvider } from './providers/test-provider.ts';
import type { PaymentsTables } from './tables.ts';

/**
 * The test provider behind a wrapper a test can steer: it records every call, can fail the
 * next calls as a processor that times out would (before answering), and can hold charges
 * until released, to line a cancellation up with a charge in flight.
 */
export function steerableProvider(inner: PaymentProvider = createTestPaymentProvider()) {
  const charges: ChargeRequest[] = [];
  const refunds: RefundRequest[] = [];
  let failuresLeft = 0;
  let held: Held | undefined;
  const failIfTold = () => {
    if (failuresLeft > 0) {
      failuresLeft--;
      throw new Error('processor timed out');
    }
  };
  const provider: PaymentProvider = {
    name: inner.name,
    async charge(request) {
      charges.push(request);
      failIfTold();
      if (held) {
        held.arrived();
        await held.released;
      }
      return inner.charge(request);
    },
    async refund(request) {
      refunds.push(request);
      failIfTold();
      return inner.refund(request);
    },
  };
  return {
    provider,
    /** Every charge call, retries included. */
    charges,
    refunds,
    /** The next `count` calls throw without reaching the processor. */
    failNextCalls(count: number) {
      failuresLeft = count;
    },
    /** Charges wait until `release()`; `waiting(n)` resolves once `n` of them are waiting. */
    holdCharges() {
      const gate = chargeGate(() => {
        held = undefined;
      });
      held = gate.held;
      return { waiting: gate.waiting, release: gate.release };
    },
  };
}

type Held = { arrived: () => void; released: Promise<void> };

/** A gate charges wait at, counting arrivals, until `release()` (which also calls `opened`). */
function chargeGate(opened: () => void) {
  let arrivals = 0;
  const watchers: Array<{ count: number; resolve: () => void }> = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held: Held = {
    released,
    arrived() {
      arrivals++;
      for (const watcher of watchers) if (arrivals >= watcher.count) watcher.resolve();
    },
  };
  return {
    held,
    waiting: (count: number) =>
      new Promise<void>((resolve) => {
        if (arrivals >= count) resolve();
        else watchers.push({ count, resolve });
      }),
    release() {
      opened();
      release();
    },
  };
}

/** The distinct charges a processor honouring idempotency keys has made. */
export const distinctKeys = (requests: Array<{ idempotencyKey: string }>) =>
  new Set(requests.map((request) => request.idempotencyKey)).size;

/**
 * The payments app over a real database (a private PostgreSQL or an in-memory PGlite) with
 * real token checks and the steerable test provider; only the broker is replaced, by a list
 * the test can read.
 */
export function usePaymentsApp(backend: DatabaseBackend) {
  const steering = steerableProvider();
  let tokens: Awaited<ReturnType<typeof createTestTokens>> | undefined;
  const harness = useServiceApp<PaymentsTables, ReturnType<typeof createApp>>({
    backend,
    migrations: new URL('../migrations', import.meta.url),
    async createApp({ db, outbox, logger, appApiToken }) {
      tokens = await createTestTokens();
      return createApp({
        config: { APP_API_TOKEN: appApiToken },
        logger,
        db,
        outbox,
        provider: steering.provider,
        verifier: tokens.verifier,
        deadLetters: createMemoryDeadLetterStore(),
        readiness: { sidecar: async () => {}, database: async () => {} },
      });
    },
  });
  const issueToken = async (role: 'customer' | 'admin' = 'admin') => {
    if (!tokens) throw new Error('the payments app is not open yet');
    return tokens.issue(`u-${role}`, role);
  };
  return { ...harness, ...steering, issueToken };
}

/** The saga's events about one order, as its producers build them. */
export function orderEvents(
  orderId: string,
  options: { total?: number; paymentMethod?: string } = {},
) {
  const total = options.total ?? 2_500;
  return {
    created: eventFixture('order.created', {
      orderId,
      userId: 'u-1',
      items: [{ productId: crypto.randomUUID(), quantity: 1, unitPrice: total }],
      total,
      paymentMethod: options.paymentMethod ?? 'pm_card_visa',
    }),
    reserved: eventFixture('stock.reserved', {
      orderId,
      items: [{ productId: crypto.randomUUID(), quantity: 1 }],
    }),
    cancelled: eventFixture('order.cancelled', { orderId, userId: 'u-1', reason: 'expired' }),
  };
}

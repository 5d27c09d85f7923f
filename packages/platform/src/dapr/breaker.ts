import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
} from 'cockatiel';
import type { Logger } from '../logger.ts';

/** Thrown instead of calling an app whose circuit is open: it failed repeatedly just now. */
export class CircuitOpenError extends Error {
  readonly appId: string;
  /** Whole seconds until the next call is let through to test the callee again. */
  readonly retryAfterSeconds: number;

  constructor(appId: string, retryAfterSeconds: number) {
    super(`the circuit to ${appId} is open after repeated failures`);
    this.name = 'CircuitOpenError';
    this.appId = appId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type BreakerPolicy = {
  /** Consecutive failures of one callee that open its circuit. */
  consecutiveFailures: number;
  /** How long an open circuit fails fast before one call tests the callee again. */
  openMs: number;
};

export const defaultBreakerPolicy: BreakerPolicy = { consecutiveFailures: 5, openMs: 5_000 };

export type CalleeBreakers = {
  /** Runs `call` unless `appId`'s circuit is open, in which case it throws CircuitOpenError. */
  call(appId: string, call: () => Promise<Response>): Promise<Response>;
};

/**
 * One circuit breaker per callee, in the caller. Only the callee's failures count: a 5xx,
 * a timeout, a refused or broken connection. A 4xx is the client's fault and the callee
 * answering it is healthy, so no client can open a circuit for everyone else (Dapr's own
 * app breaker counts every non-2xx, which is why components/common/resiliency.yaml does
 * not use it for apps).
 */
export function createCalleeBreakers(
  logger: Logger,
  policy = defaultBreakerPolicy,
): CalleeBreakers {
  const breakers = new Map<string, { breaker: CircuitBreakerPolicy; openedAt: number }>();
  const breakerOf = (appId: string) => {
    let entry = breakers.get(appId);
    if (!entry) {
      const breaker = circuitBreaker(
        // Only Responses come back here; not `instanceof Response`, since @hono/node-server
        // swaps the global Response class for its own.
        handleAll.orWhenResult((result) => (result as Response).status >= 500),
        {
          breaker: new ConsecutiveBreaker(policy.consecutiveFailures),
          halfOpenAfter: policy.openMs,
        },
      );
      const created = { breaker, openedAt: 0 };
      breaker.onBreak(() => {
        created.openedAt = Date.now();
        logger.warn('circuit opened: calls fail fast', { appId, openMs: policy.openMs });
      });
      breaker.onReset(() => logger.info('circuit closed', { appId }));
      breakers.set(appId, created);
      entry = created;
    }
    return entry;
  };

  return {
    async call(appId, call) {
      const entry = breakerOf(appId);
      try {
        return await entry.breaker.execute(call);
      } catch (error) {
        if (!(error instanceof BrokenCircuitError)) throw error;
        const remainingMs = entry.openedAt + policy.openMs - Date.now();
        throw new CircuitOpenError(appId, Math.max(1, Math.ceil(remainingMs / 1000)));
      }
    },
  };
}

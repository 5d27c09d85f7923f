import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { Counter, Gauge, type Registry } from 'prom-client';
import { problemContentType } from '../errors.ts';
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
  /**
   * Runs `call` unless `appId`'s circuit is open, in which case it throws CircuitOpenError.
   * `signal` is the one `call` was given: when it ends the call for any reason but a
   * deadline (the caller's client went away), the failure counts for nothing.
   */
  call(
    appId: string,
    call: () => Promise<Response>,
    signal?: AbortSignal | null,
  ): Promise<Response>;
  /** Adds the callees' own server errors and the circuits' state to a service's metrics. */
  registerMetrics(registry: Registry): void;
};

/** A call the caller abandoned itself: says nothing about the callee's health. */
class CallerGaveUp extends Error {
  readonly original: unknown;

  constructor(original: unknown) {
    super('the caller abandoned the call');
    this.original = original;
  }
}

function isDeadline(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === 'TimeoutError';
}

/** Dapr's own failure (the callee unreachable, its sidecar gone), not one of our services' answers. */
function isDaprFailure(response: Response): boolean {
  const contentType = response.headers.get('content-type') ?? '';
  return response.status >= 500 && !contentType.startsWith(problemContentType);
}

/** A callee's circuit, and when it last opened (cockatiel does not say). */
type Circuit = { breaker: CircuitBreakerPolicy; openedAt: number };

// cockatiel times the open window with Date.now(), so that is this module's clock too:
// a test moves it with vi.setSystemTime.
function newCircuit(
  appId: string,
  policy: BreakerPolicy,
  logger: Logger,
  onOpen: () => void,
): Circuit {
  const breaker = circuitBreaker(
    // Only Responses come back here; not `instanceof Response`, since @hono/node-server
    // swaps the global Response class for its own.
    handleWhen((error) => !(error instanceof CallerGaveUp)).orWhenResult((result) =>
      isDaprFailure(result as Response),
    ),
    { breaker: new ConsecutiveBreaker(policy.consecutiveFailures), halfOpenAfter: policy.openMs },
  );
  const circuit = { breaker, openedAt: 0 };
  breaker.onBreak(() => {
    circuit.openedAt = Date.now();
    onOpen();
    logger.warn('circuit opened: calls fail fast', { appId, openMs: policy.openMs });
  });
  breaker.onReset(() => logger.info('circuit closed', { appId }));
  return circuit;
}

/** Makes the call; a callee's own 5xx is counted and logged, a caller's abandon set apart. */
async function attempt(
  call: () => Promise<Response>,
  signal: AbortSignal | null | undefined,
  onServerError: (status: number) => void,
): Promise<Response> {
  let response: Response;
  try {
    response = await call();
  } catch (error) {
    if (signal?.aborted && !isDeadline(signal.reason)) throw new CallerGaveUp(error);
    throw error;
  }
  if (response.status >= 500 && !isDaprFailure(response)) onServerError(response.status);
  return response;
}

/**
 * The breakers' metrics. A circuit stays open for seconds, shorter than many scrape
 * intervals, so the openings are counted as well as the state read at each scrape.
 */
function breakerMetrics(circuits: Map<string, Circuit>) {
  return {
    serverErrors: new Counter({
      name: 'dapr_invoke_callee_server_errors_total',
      help: 'Server errors (problem+json 5xx) that called services answered; they never open a circuit',
      labelNames: ['app_id', 'status'] as const,
      registers: [],
    }),
    openings: new Counter({
      name: 'dapr_invoke_circuit_openings_total',
      help: 'Times the circuit to a callee opened after consecutive failures',
      labelNames: ['app_id'] as const,
      registers: [],
    }),
    open: new Gauge({
      name: 'dapr_invoke_circuit_open',
      help: '1 while the circuit to a callee is open (calls fail fast with 503), else 0',
      labelNames: ['app_id'] as const,
      registers: [],
      collect() {
        for (const [appId, circuit] of circuits) {
          this.set({ app_id: appId }, circuit.breaker.state === CircuitState.Open ? 1 : 0);
        }
      },
    }),
  };
}

/**
 * One circuit breaker per callee, in the caller. Only the callee's unavailability counts:
 * a refused or broken connection, the caller's own deadline, a 5xx from Dapr itself. A 4xx
 * is the client's fault, and a service's own 5xx (problem+json) is a bug that one request
 * can trigger: counted and logged, never allowed to cut the callee off for every other
 * client. Nor does a call the caller abandoned (its client went away) count, except that
 * cockatiel ends a half-open test with it as if it had succeeded (the next failures reopen
 * the circuit). Dapr's own app breaker counts every non-2xx, which is why
 * components/common/resiliency.yaml does not use it for apps.
 */
export function createCalleeBreakers(
  logger: Logger,
  policy = defaultBreakerPolicy,
): CalleeBreakers {
  const circuits = new Map<string, Circuit>();
  const metrics = breakerMetrics(circuits);
  const circuitOf = (appId: string) => {
    const circuit =
      circuits.get(appId) ??
      newCircuit(appId, policy, logger, () => metrics.openings.inc({ app_id: appId }));
    circuits.set(appId, circuit);
    return circuit;
  };

  return {
    async call(appId, call, signal) {
      const circuit = circuitOf(appId);
      const onServerError = (status: number) => {
        metrics.serverErrors.inc({ app_id: appId, status: String(status) });
        logger.warn('callee answered a server error', { appId, status });
      };
      try {
        return await circuit.breaker.execute(() => attempt(call, signal, onServerError));
      } catch (error) {
        if (error instanceof CallerGaveUp) throw error.original;
        if (!(error instanceof BrokenCircuitError)) throw error;
        const remainingMs = circuit.openedAt + policy.openMs - Date.now();
        throw new CircuitOpenError(appId, Math.max(1, Math.ceil(remainingMs / 1000)));
      }
    },
    registerMetrics(registry) {
      for (const metric of Object.values(metrics)) registry.registerMetric(metric);
    },
  };
}

import type { DaprClient } from '@dapr/dapr';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { createCalleeBreakers } from './breaker.ts';

export const pubsubName = 'pubsub';

// Longer than the publish attempts of components/common/resiliency.yaml take together
// (3 attempts of at most 5 s plus backoff), so the relay never gives up on a publish Dapr
// is still retrying, which would send the event twice.
const publishTimeoutMs = 20_000;

/** One entry of a Dapr state store as read: its value and the ETag a conditional write names. */
export type StateEntry = { value: unknown; etag: string | undefined };

export type SaveStateOptions = {
  /** Write only over this ETag; a mismatch answers 'conflict'. */
  etag?: string | undefined;
  /**
   * `first-write`: without an `etag`, the write only creates the key (for stores that keep
   * the mode per entry, like Redis, only when the entry there was written first-write too);
   * `last-write` (Dapr's default) overwrites.
   */
  concurrency?: 'first-write' | 'last-write';
  /** Dapr's `ttlInSeconds` metadata: the store drops the entry after this long. */
  ttlSeconds?: number;
  /** Gives up (throws) after this long; a cache must not hold a request up. */
  timeoutMs?: number;
};

export type SidecarConfig = {
  DAPR_HOST: string;
  DAPR_HTTP_PORT: number;
  DAPR_API_TOKEN?: string | undefined;
};

export type Sidecar = {
  /**
   * The `@dapr/dapr` SDK client for the building blocks (secrets, state), created on first
   * use: loading the SDK costs a process about 33 MiB at idle (measured), so only the
   * services that use a building block pay for it.
   */
  client(): Promise<DaprClient>;
  /** Reads one secret from a Dapr secret store: its entries by name. */
  getSecret(store: string, name: string): Promise<Record<string, string>>;
  /** Resolves while the sidecar answers its outbound health endpoint; throws otherwise. */
  ready(): Promise<void>;
  /** Resolves once the sidecar answers, however long that takes (a service that cannot work without it). */
  waitUntilReady(): Promise<void>;
  /**
   * Publishes a complete CloudEvent to the topic named by its `type`, in the trace of its
   * `traceparent`. The SDK's publish cannot send that header, so Dapr would start a new trace.
   */
  publish(event: { type: string; id: string; traceparent?: string }): Promise<void>;
  /**
   * Calls another app through Dapr service invocation and hands back the raw response.
   * The SDK's `invoker.invoke` throws away status and headers, which a proxy must keep.
   * Throws CircuitOpenError without calling while `appId` keeps being unavailable (refused
   * or reset connections, Dapr's own 5xx, `init.signal` ending with a TimeoutError); its
   * answers never count against it, 4xx or problem+json 5xx, nor does a call `init.signal`
   * ends for another reason (the caller's client went away). Without `init.signal` the call
   * has a deadline of 10 s.
   */
  invoke(appId: string, pathAndQuery: string, init: RequestInit): Promise<Response>;
  /**
   * Adds the sidecar's own counters (callees' server errors) to the app's metrics.
   *
   * @example
   * sidecar.registerMetrics(app.metricsRegistry);
   */
  registerMetrics(registry: Registry): void;
  /**
   * Reads one key of a Dapr state store (Dapr's HTTP state API, not the SDK, whose load
   * costs ~33 MiB): undefined when the key is absent. Throws when the store does not answer
   * within `timeoutMs` or fails.
   */
  getState(
    store: string,
    key: string,
    options?: { timeoutMs?: number },
  ): Promise<StateEntry | undefined>;
  /**
   * Writes one key; 'conflict' when the ETag did not match (Dapr's 409). Throws when the
   * store fails or does not answer in time, and also when a first-write create finds the
   * key taken: Dapr reports that as the store's own error (500), not as a 409.
   *
   * @example
   * const entry = await sidecar.getState('statestore', key);
   * await sidecar.saveState('statestore', key, next, { etag: entry?.etag, concurrency: 'first-write', ttlSeconds: 300 });
   */
  saveState(
    store: string,
    key: string,
    value: unknown,
    options?: SaveStateOptions,
  ): Promise<'saved' | 'conflict'>;
  /**
   * Invokes an output binding (Dapr's HTTP bindings API, not the SDK, whose load costs
   * ~33 MiB) and resolves to what it answered, as text ('' when nothing). Throws when the
   * binding fails or does not answer within `timeoutMs`, and so when its target (a mail
   * server, say) is down: the call is not retried here, because a binding that took effect
   * before failing would take it twice.
   *
   * @example
   * await sidecar.invokeBinding('email', 'create', '<p>Hello</p>', { emailTo: 'ada@example.com', subject: 'Hello' });
   */
  invokeBinding(
    name: string,
    operation: string,
    data: unknown,
    metadata?: Record<string, string>,
    options?: { timeoutMs?: number },
  ): Promise<string>;
  /** Deletes one key (only at `etag` when given); deleting an absent key succeeds. */
  deleteState(
    store: string,
    key: string,
    options?: { etag?: string; timeoutMs?: number },
  ): Promise<'deleted' | 'conflict'>;
};

// Long enough for a healthy local store, short enough that a dead one barely delays a read.
const defaultStateTimeoutMs = 2_000;
// A call whose caller set no deadline of its own still ends: a callee that hangs must not
// hold its caller's request, or its connection, forever.
const defaultInvokeTimeoutMs = 10_000;
// A binding reaches outside (an SMTP server's greeting and TLS can take seconds).
const defaultBindingTimeoutMs = 15_000;

function sdkLogger(logger: Logger) {
  const text = (args: unknown[]) => args.map(String).join(' ');
  return {
    error: (...args: unknown[]) => logger.error(`dapr sdk: ${text(args)}`),
    warn: (...args: unknown[]) => logger.warn(`dapr sdk: ${text(args)}`),
    info: (...args: unknown[]) => logger.debug(`dapr sdk: ${text(args)}`),
    verbose: () => {},
    debug: () => {},
  };
}

/**
 * The service's handle on its own sidecar, over Dapr's HTTP API: readiness, secrets, traced
 * publishing, raw invocation behind a circuit breaker per callee, and state-store reads and
 * writes with ETags, first-write concurrency and TTLs.
 */
export function createSidecar(config: SidecarConfig, logger: Logger): Sidecar {
  const baseUrl = `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}`;
  const tokenHeader: Record<string, string> = config.DAPR_API_TOKEN
    ? { 'dapr-api-token': config.DAPR_API_TOKEN }
    : {};
  const breakers = createCalleeBreakers(logger);

  let sdkClient: Promise<DaprClient> | undefined;
  const client = () => {
    sdkClient ??= import('@dapr/dapr').then(
      ({ CommunicationProtocolEnum, DaprClient, LogLevel }) =>
        new DaprClient({
          daprHost: config.DAPR_HOST,
          daprPort: String(config.DAPR_HTTP_PORT),
          communicationProtocol: CommunicationProtocolEnum.HTTP,
          ...(config.DAPR_API_TOKEN ? { daprApiToken: config.DAPR_API_TOKEN } : {}),
          logger: { level: LogLevel.Warn, service: sdkLogger(logger) },
        }),
    );
    return sdkClient;
  };

  const ready = async () => {
    const res = await fetch(`${baseUrl}/v1.0/healthz/outbound`, {
      signal: AbortSignal.timeout(1_000),
    });
    if (!res.ok) throw new Error(`sidecar answered ${res.status}`);
  };

  const stateUrl = (store: string, key?: string) =>
    `${baseUrl}/v1.0/state/${encodeURIComponent(store)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;
  const stateFailure = async (what: string, res: Response) =>
    new Error(`state ${what} failed: ${res.status} ${await res.text()}`);

  return {
    ready,
    async waitUntilReady() {
      for (let attempt = 1; ; attempt++) {
        try {
          return await ready();
        } catch (error) {
          if (attempt % 40 === 0) logger.warn('still waiting for the sidecar', { error });
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    },
    client,
    async getSecret(store, name) {
      const secret = await (await client()).secret.get(store, name);
      return secret as Record<string, string>;
    },
    async publish(event) {
      const res = await fetch(`${baseUrl}/v1.0/publish/${pubsubName}/${event.type}`, {
        method: 'POST',
        headers: {
          ...tokenHeader,
          'content-type': 'application/cloudevents+json',
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(publishTimeoutMs),
      });
      if (!res.ok) {
        throw new Error(
          `publish of ${event.type} ${event.id} failed: ${res.status} ${await res.text()}`,
        );
      }
    },
    invoke(appId, pathAndQuery, init) {
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(tokenHeader)) headers.set(name, value);
      const signal = init.signal ?? AbortSignal.timeout(defaultInvokeTimeoutMs);
      return breakers.call(
        appId,
        () =>
          fetch(`${baseUrl}/v1.0/invoke/${appId}/method${pathAndQuery}`, {
            ...init,
            headers,
            signal,
          }),
        signal,
      );
    },
    registerMetrics: (registry) => breakers.registerMetrics(registry),
    async getState(store, key, options = {}) {
      const res = await fetch(stateUrl(store, key), {
        headers: tokenHeader,
        signal: AbortSignal.timeout(options.timeoutMs ?? defaultStateTimeoutMs),
      });
      if (res.status === 204 || res.status === 404) return undefined;
      if (!res.ok) throw await stateFailure(`get of ${key}`, res);
      const text = await res.text();
      if (text === '') return undefined;
      return { value: JSON.parse(text), etag: res.headers.get('etag') ?? undefined };
    },
    async saveState(store, key, value, options = {}) {
      const entry = {
        key,
        value,
        ...(options.etag ? { etag: options.etag } : {}),
        ...(options.concurrency ? { options: { concurrency: options.concurrency } } : {}),
        ...(options.ttlSeconds ? { metadata: { ttlInSeconds: String(options.ttlSeconds) } } : {}),
      };
      const res = await fetch(stateUrl(store), {
        method: 'POST',
        headers: { ...tokenHeader, 'content-type': 'application/json' },
        body: JSON.stringify([entry]),
        signal: AbortSignal.timeout(options.timeoutMs ?? defaultStateTimeoutMs),
      });
      if (res.ok) return 'saved';
      if (res.status === 409) return 'conflict';
      throw await stateFailure(`save of ${key}`, res);
    },
    async invokeBinding(name, operation, data, metadata = {}, options = {}) {
      const res = await fetch(`${baseUrl}/v1.0/bindings/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { ...tokenHeader, 'content-type': 'application/json' },
        body: JSON.stringify({ operation, data, metadata }),
        signal: AbortSignal.timeout(options.timeoutMs ?? defaultBindingTimeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`binding ${name} ${operation} failed: ${res.status} ${text}`);
      return text;
    },
    async deleteState(store, key, options = {}) {
      const res = await fetch(stateUrl(store, key), {
        method: 'DELETE',
        headers: { ...tokenHeader, ...(options.etag ? { 'if-match': options.etag } : {}) },
        signal: AbortSignal.timeout(options.timeoutMs ?? defaultStateTimeoutMs),
      });
      if (res.ok) return 'deleted';
      if (res.status === 409) return 'conflict';
      throw await stateFailure(`delete of ${key}`, res);
    },
  };
}

import type { DaprClient } from '@dapr/dapr';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { createCalleeBreakers } from './breaker.ts';
import {
  checkReady,
  daprHttpOf,
  deleteState,
  getState,
  invokeApp,
  invokeBinding,
  publishBulkEvents,
  publishEvent,
  type SaveStateOptions,
  type SidecarConfig,
  type StateEntry,
  saveState,
} from './dapr-http.ts';

export type { SaveStateOptions, SidecarConfig, StateEntry } from './dapr-http.ts';

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
   * Publishes complete CloudEvents to `topic` of the pub/sub component `pubsub` in one
   * request, in one trace; throws unless the sidecar accepted every one.
   */
  publishBulk(
    pubsub: string,
    topic: string,
    events: ReadonlyArray<{ type: string; id: string }>,
  ): Promise<void>;
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

/** The SDK client, loaded on first use only (see Sidecar.client). */
function lazySdkClient(config: SidecarConfig, logger: Logger): () => Promise<DaprClient> {
  let sdkClient: Promise<DaprClient> | undefined;
  return () => {
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
}

async function waitUntilReady(ready: () => Promise<void>, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ready();
    } catch (error) {
      if (attempt % 40 === 0) logger.warn('still waiting for the sidecar', { error });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * The service's handle on its own sidecar, over Dapr's HTTP API: readiness, secrets, traced
 * publishing, raw invocation behind a circuit breaker per callee, and state-store reads and
 * writes with ETags, first-write concurrency and TTLs.
 */
export function createSidecar(config: SidecarConfig, logger: Logger): Sidecar {
  const dapr = daprHttpOf(config);
  const breakers = createCalleeBreakers(logger);
  const client = lazySdkClient(config, logger);
  const ready = () => checkReady(dapr);
  return {
    ready,
    waitUntilReady: () => waitUntilReady(ready, logger),
    client,
    async getSecret(store, name) {
      const secret = await (await client()).secret.get(store, name);
      return secret as Record<string, string>;
    },
    publish: (event) => publishEvent(dapr, event),
    publishBulk: (pubsub, topic, events) => publishBulkEvents(dapr, pubsub, topic, events),
    invoke: (appId, pathAndQuery, init) => invokeApp(dapr, breakers, appId, pathAndQuery, init),
    registerMetrics: (registry) => breakers.registerMetrics(registry),
    getState: (store, key, options) => getState(dapr, store, key, options),
    saveState: (store, key, value, options) => saveState(dapr, store, key, value, options),
    invokeBinding: (name, operation, data, metadata, options) =>
      invokeBinding(dapr, { name, operation, data, metadata, ...options }),
    deleteState: (store, key, options) => deleteState(dapr, store, key, options),
  };
}

import type { DaprClient } from '@dapr/dapr';
import type { Logger } from '../logger.ts';
import { createCalleeBreakers } from './breaker.ts';

export const pubsubName = 'pubsub';

// Longer than the publish attempts of components/common/resiliency.yaml take together
// (3 attempts of at most 5 s plus backoff), so the relay never gives up on a publish Dapr
// is still retrying, which would send the event twice.
const publishTimeoutMs = 20_000;

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
   * Throws CircuitOpenError without calling while `appId` keeps failing (5xx, timeouts,
   * unreachable); a 4xx never counts against it.
   */
  invoke(appId: string, pathAndQuery: string, init: RequestInit): Promise<Response>;
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

/**
 * The service's handle on its own sidecar, over Dapr's HTTP API: readiness, secrets, traced
 * publishing, and raw invocation behind a circuit breaker per callee.
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
      return breakers.call(appId, () =>
        fetch(`${baseUrl}/v1.0/invoke/${appId}/method${pathAndQuery}`, { ...init, headers }),
      );
    },
  };
}

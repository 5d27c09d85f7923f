import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';

/**
 * Starts tracing for `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set, and closes it last
 * on the lifecycle (what the outbox sends while stopping is still exported). Unset, the
 * SDK is never even loaded. The SDK loads while the service opens its storage; the few
 * spans of start-up before then are not recorded.
 */
export function traceService(
  service: string,
  lifecycle: Pick<Lifecycle, 'closes'>,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): void {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return;
  const started = import('./sdk.ts').then(({ startTracing }) => {
    const tracing = startTracing({ service, env });
    logger.info('tracing', {
      endpoint,
      sampler: env.OTEL_TRACES_SAMPLER || 'parentbased_always_on',
    });
    return tracing;
  });
  started.catch((error) => logger.error('tracing did not start', { error }));
  lifecycle.closes('tracing', {
    close: async () => (await started.catch(() => undefined))?.close(),
  });
}

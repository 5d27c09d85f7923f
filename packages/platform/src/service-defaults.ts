import type { z } from 'zod';
import { loadConfig, type ServiceEnv } from './config.ts';
import { createSidecar, type Sidecar } from './dapr/sidecar.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './logger.ts';
import { traceService } from './tracing/index.ts';

/**
 * What every service's main.ts starts from: its configuration parsed once from the
 * environment, its logger, its handle on its own sidecar, the lifecycle that its resources
 * and jobs are declared on, and its tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * @example
 * const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, ordersEnv);
 */
export function serviceDefaults<S extends z.ZodType<ServiceEnv>>(
  service: string,
  schema: S,
): { config: Readonly<z.infer<S>>; logger: Logger; sidecar: Sidecar; lifecycle: Lifecycle } {
  const config = loadConfig(schema);
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  const lifecycle = createLifecycle(logger);
  // Declared first, so it closes last.
  traceService(service, lifecycle, logger);
  return { config, logger, sidecar: createSidecar(config, logger), lifecycle };
}

import type { z } from 'zod';
import { loadConfig, type ServiceEnv } from './config.ts';
import { createSidecar, type Sidecar } from './dapr/sidecar.ts';
import { createLogger, type Logger } from './logger.ts';

/**
 * What every service's main.ts starts from: its configuration parsed once from the
 * environment, its logger, and its handle on its own sidecar.
 *
 * @example
 * const { config, logger, sidecar } = serviceDefaults('orders', ordersEnv);
 */
export function serviceDefaults<S extends z.ZodType<ServiceEnv>>(
  service: string,
  schema: S,
): { config: Readonly<z.infer<S>>; logger: Logger; sidecar: Sidecar } {
  const config = loadConfig(schema);
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  return { config, logger, sidecar: createSidecar(config, logger) };
}

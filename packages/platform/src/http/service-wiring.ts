import type { Logger } from '../logger.ts';
import { createServiceApp, type ReadinessChecks, type ServiceApp } from './app.ts';

/** What every service behind the gateway hands its app: its token, logger and checks. */
export type ServiceAppBasics = {
  config: { APP_API_TOKEN: string };
  logger: Logger;
  readiness?: ReadinessChecks;
};

/**
 * The app of a service whose public API (`/api/*`) only the gateway may call: clients come
 * through the gateway, which throttles and checks paths and tokens first, so no other app
 * holding the token reaches that API around those checks.
 *
 * @example
 * const app = createServiceAppBehindGateway(serviceName, deps);
 */
export function createServiceAppBehindGateway(
  service: string,
  deps: ServiceAppBasics,
  options: { publicRouteCallers?: Readonly<Record<string, readonly string[]>> } = {},
): ServiceApp {
  return createServiceApp({
    service,
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    publicApiCallers: ['gateway'],
    ...options,
    ...(deps.readiness ? { readiness: deps.readiness } : {}),
  });
}

import { createServiceApp, type Logger, type Sidecar } from '@shop/platform';
import type { GatewayConfig } from './config.ts';
import { proxyRoutes } from './proxy/routes.ts';
import { isPublicPath } from './proxy/upstreams.ts';

export type GatewayDeps = {
  config: Pick<GatewayConfig, 'APP_API_TOKEN' | 'UPSTREAM_TIMEOUT_MS'>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'invoke' | 'ready'>;
};

export function createApp(deps: GatewayDeps) {
  const app = createServiceApp({
    service: 'gateway',
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    isPublicPath,
    readiness: { sidecar: deps.sidecar.ready },
  });
  app.route('/', proxyRoutes(deps));
  return app;
}

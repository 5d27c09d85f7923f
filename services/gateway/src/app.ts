import { createServiceApp, type Logger, type Sidecar } from '@shop/platform';
import type { TokenVerifier } from '@shop/platform/auth';
import { type GatewayConfig, serviceName } from './config.ts';
import { proxyRoutes } from './proxy/routes.ts';
import { isPublicPath } from './proxy/upstreams.ts';

export type GatewayDeps = {
  config: Pick<GatewayConfig, 'APP_API_TOKEN' | 'UPSTREAM_TIMEOUT_MS' | 'TRUSTED_PROXY_HOPS'>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'invoke' | 'ready'>;
  verifier: Pick<TokenVerifier, 'verify'>;
};

export function createApp(deps: GatewayDeps) {
  const app = createServiceApp({
    service: serviceName,
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    isPublicPath,
    readiness: { sidecar: deps.sidecar.ready },
  });
  app.route('/', proxyRoutes(deps));
  return app;
}

import { createServiceApp, type Logger, type Sidecar } from '@shop/platform';
import type { TokenVerifier } from '@shop/platform/auth';
import type { Redis } from 'ioredis';
import { type GatewayConfig, serviceName } from './config.ts';
import { gatewayEdges } from './edges/index.ts';
import { graphqlRoutes } from './graphql/routes.ts';
import { openApiRoutes } from './openapi/routes.ts';
import { proxyRoutes } from './proxy/routes.ts';
import { isPublicPath } from './proxy/upstreams.ts';
import { createRateLimit, type RateLimitBudgets } from './rate-limit/index.ts';

export type GatewayDeps = {
  config: Pick<GatewayConfig, 'APP_API_TOKEN' | 'UPSTREAM_TIMEOUT_MS' | 'TRUSTED_PROXY_HOPS'> &
    Partial<Pick<GatewayConfig, 'CORS_ORIGINS' | 'OPENAPI_CACHE_TTL_MS'>>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'invoke' | 'ready'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  /** Budgets per client, kept in `redis` so every replica spends the same ones; none when unset. */
  rateLimits?: { redis: Redis; budgets: RateLimitBudgets };
};

export function createApp(deps: GatewayDeps) {
  const app = createServiceApp({
    service: serviceName,
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    isPublicPath,
    readiness: { sidecar: deps.sidecar.ready },
    edges: gatewayEdges({ CORS_ORIGINS: deps.config.CORS_ORIGINS ?? [] }),
  });
  const rateLimit =
    deps.rateLimits &&
    createRateLimit({
      ...deps.rateLimits,
      logger: deps.logger,
      registry: app.metricsRegistry,
      trustedProxyHops: deps.config.TRUSTED_PROXY_HOPS,
    });
  const openApiTtlMs = deps.config.OPENAPI_CACHE_TTL_MS ?? 300_000;
  app.route(
    '/',
    openApiRoutes({ ...deps, config: { ...deps.config, OPENAPI_CACHE_TTL_MS: openApiTtlMs } }),
  );
  // GraphQL before the proxy, whose catch-all would take /graphql for a REST path.
  app.route('/', graphqlRoutes({ ...deps, rateLimit }));
  app.route('/', proxyRoutes({ ...deps, rateLimit }));
  return app;
}

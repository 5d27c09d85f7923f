import { createServiceApp, type Logger, type Sidecar } from '@shop/platform';
import type { TokenVerifier } from '@shop/platform/auth';
import type { Redis } from 'ioredis';
import { tokenChecks } from './auth/index.ts';
import { type GatewayConfig, type RateLimitBudget, serviceName } from './config.ts';
import { redisDeadLetterStore } from './dead-letters.ts';
import { gatewayEdges } from './edges/index.ts';
import { gatewayEvents } from './events.ts';
import { graphqlRoutes } from './graphql/routes.ts';
import { openApiRoutes } from './openapi/routes.ts';
import { allowedMethodsOnly, type RouteMethods } from './proxy/methods.ts';
import { proxyRoutes } from './proxy/routes.ts';
import { isPublicPath } from './proxy/upstreams.ts';
import { createRateLimit, type RateLimitBudgets } from './rate-limit/index.ts';

export type GatewayDeps = {
  config: Pick<GatewayConfig, 'APP_API_TOKEN' | 'UPSTREAM_TIMEOUT_MS' | 'TRUSTED_PROXY_HOPS'> &
    Partial<
      Pick<
        GatewayConfig,
        'CORS_ORIGINS' | 'OPENAPI_CACHE_TTL_MS' | 'GRAPHQL_DEADLINE_MS' | 'ACCESS_TOKEN_TTL_SECONDS'
      >
    >;
  logger: Logger;
  sidecar: Pick<Sidecar, 'invoke' | 'ready'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  /**
   * Budgets per client, kept in `redis` so every replica spends the same ones; none when
   * unset. The same Redis keeps the failed token checks per address (`unverified`, 60 a
   * minute unless given), the access tokens ended by logout, the sessions `user.signed_out`
   * ended (consumed only with this Redis) and that consumer's dead letters.
   */
  rateLimits?: { redis: Redis; budgets: RateLimitBudgets; unverified?: RateLimitBudget };
  /** The methods each proxied path has (from the services' documents); unset, any usual one. */
  routeMethods?: RouteMethods;
  /**
   * The clock of the OpenAPI document cache and of the warnings while Redis is down;
   * Date.now unless given (tests drive it by hand).
   */
  now?: (() => number) | undefined;
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
      now: deps.now,
      logger: deps.logger,
      registry: app.metricsRegistry,
      trustedProxyHops: deps.config.TRUSTED_PROXY_HOPS,
    });
  const checks =
    deps.rateLimits &&
    tokenChecks({
      ...deps.rateLimits,
      now: deps.now,
      verifier: deps.verifier,
      accessTokenTtlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
      logger: deps.logger,
      registry: app.metricsRegistry,
      trustedProxyHops: deps.config.TRUSTED_PROXY_HOPS,
    });
  const verifier = checks?.verifier ?? deps.verifier;
  // Before the routes: a method a path lacks costs nothing, a token check spends a budget first.
  app.use('*', allowedMethodsOnly(deps.routeMethods));
  for (const middleware of checks?.middleware ?? []) app.use('*', middleware);
  // Sessions end in the Redis the verifier checks; without one there is nowhere to end them.
  if (checks && deps.rateLimits) {
    const deadLetters = redisDeadLetterStore(deps.rateLimits.redis);
    app.consumeEvents({ definition: gatewayEvents(checks.revoked), deadLetters });
  }
  const openApiTtlMs = deps.config.OPENAPI_CACHE_TTL_MS ?? 300_000;
  app.route(
    '/',
    openApiRoutes({ ...deps, config: { ...deps.config, OPENAPI_CACHE_TTL_MS: openApiTtlMs } }),
  );
  // GraphQL before the proxy, whose catch-all would take /graphql for a REST path.
  app.route('/', graphqlRoutes({ ...deps, verifier, rateLimit }));
  app.route('/', proxyRoutes({ ...deps, verifier, rateLimit }));
  return app;
}

import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { answerParseErrorsAsProblems } from './client-errors.ts';
import { gatewayEnv, serviceName } from './config.ts';
import { serviceRouteMethods } from './proxy/methods.ts';
import { budgetsFrom, connectRateLimitStore } from './rate-limit/index.ts';
import { keepConnectionsAlive } from './server-timeouts.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, gatewayEnv);
const verifier = tokenVerifierViaDapr({ config, sidecar, logger });
const rateLimitStore = connectRateLimitStore(config, logger);
lifecycle.closes('rate-limit store', { close: () => rateLimitStore.disconnect() });
const rateLimits = {
  redis: rateLimitStore,
  budgets: budgetsFrom(config),
  unverified: config.RATE_LIMIT_UNVERIFIED,
};
const routeMethods = serviceRouteMethods({
  sidecar,
  logger,
  // At least a minute, so a TTL of 0 (always fresh for the docs) is no fetch per request.
  ttlMs: Math.max(config.OPENAPI_CACHE_TTL_MS, 60_000),
  // The first request to a service waits for its document at most this long.
  timeoutMs: Math.min(config.UPSTREAM_TIMEOUT_MS, 2_000),
});
const app = createApp({ config, logger, sidecar, verifier, rateLimits, routeMethods });

const listeners = runService({ app, config, logger, lifecycle, sidecar });
keepConnectionsAlive(listeners.app, config.HTTP_KEEP_ALIVE_TIMEOUT_MS);
answerParseErrorsAsProblems(listeners.app);

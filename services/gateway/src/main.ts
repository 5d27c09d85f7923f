import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { gatewayEnv, serviceName } from './config.ts';
import { budgetsFrom, connectRateLimitStore } from './rate-limit/index.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, gatewayEnv);
const verifier = tokenVerifierViaDapr({ config, sidecar, logger });
const rateLimitStore = connectRateLimitStore(config, logger);
lifecycle.closes('rate-limit store', { close: () => rateLimitStore.disconnect() });
const rateLimits = { redis: rateLimitStore, budgets: budgetsFrom(config) };
const app = createApp({ config, logger, sidecar, verifier, rateLimits });

sidecar.registerMetrics(app.metricsRegistry);
runService({ app, config, logger, lifecycle });

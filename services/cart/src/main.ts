import { catalogViaDapr, runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { ordersViaDapr } from './cart/orders.ts';
import { cartEnv, serviceName } from './config.ts';
import { stateDeadLetterStore } from './dead-letters.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, cartEnv);
const state = {
  store: sidecar,
  storeName: config.STATE_STORE_NAME,
  timeoutMs: config.STATE_STORE_TIMEOUT_MS,
};

const app = createApp({
  config,
  logger,
  store: {
    ...state,
    ttlSeconds: config.CART_TTL_DAYS * 86_400,
    logger,
    now: () => new Date(),
  },
  catalog: catalogViaDapr(sidecar, logger, {
    unavailableDetail: 'the catalog could not be reached; retry',
  }),
  orders: ordersViaDapr(sidecar, logger),
  verifier: tokenVerifierViaDapr({ config, sidecar, logger }),
  deadLetters: stateDeadLetterStore(state),
  readiness: { sidecar: sidecar.ready },
});
runService({ app, config, logger, lifecycle, sidecar });

import { runService, serviceDefaults } from '@shop/platform';
import { tokenVerifierViaDapr } from '@shop/platform/auth';
import { createApp } from './app.ts';
import { gatewayEnv, serviceName } from './config.ts';

const { config, logger, sidecar, lifecycle } = serviceDefaults(serviceName, gatewayEnv);
const verifier = tokenVerifierViaDapr({ config, sidecar, logger });
const app = createApp({ config, logger, sidecar, verifier });

runService({ app, config, logger, lifecycle });

import { accessTokenEnv, serviceEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, and the name in this service's logs and metrics. */
export const serviceName = 'gateway';

export const gatewayEnv = serviceEnv.extend(accessTokenEnv.shape).extend({
  /** How long the gateway waits for a service before answering 503. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Proxies in front of the gateway whose X-Forwarded-For entries are believed. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

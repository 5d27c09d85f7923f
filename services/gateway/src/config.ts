import { serviceEnv } from '@shop/platform';
import { z } from 'zod';

export const gatewayEnv = serviceEnv.extend({
  /** How long the gateway waits for a service before answering 503. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

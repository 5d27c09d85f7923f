import { accessTokenEnv, serviceEnv, shopCurrencyEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'cart';

export const cartEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(shopCurrencyEnv.shape)
  .extend({
    /** The Dapr state store that keeps the carts: the cartstore component of each profile. */
    STATE_STORE_NAME: z.string().min(1).default('cartstore'),
    /** How long a cart nobody writes to is kept; every write starts the period again. */
    CART_TTL_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
    /** How long one state-store call may take before the request answers 503. */
    STATE_STORE_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(2_000),
  });

export type CartConfig = z.infer<typeof cartEnv>;

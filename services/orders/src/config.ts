import { accessTokenEnv, databaseEnv, serviceEnv, shopCurrencyEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'orders';

export const ordersEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(databaseEnv.shape)
  .extend(shopCurrencyEnv.shape)
  .extend({
    /** How long an order may stay pending before the expiry sweep cancels it. */
    ORDER_TTL_SECONDS: z.coerce.number().int().min(1).default(900),
    /** Only a token saying the email address is verified (`email_verified`) may place orders. */
    REQUIRE_VERIFIED_EMAIL: z.stringbool().default(false),
  });

export type OrdersConfig = z.infer<typeof ordersEnv>;

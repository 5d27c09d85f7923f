import { accessTokenEnv, databaseEnv, serviceEnv, shopCurrencyEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'catalog';

export const catalogEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(databaseEnv.shape)
  .extend(shopCurrencyEnv.shape)
  .extend({
    /** The Dapr state store that caches single-product reads. */
    STATE_STORE_NAME: z.string().min(1).default('statestore'),
    PRODUCT_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    /** How long a read waits for the state store before it goes to the database instead. */
    STATE_STORE_TIMEOUT_MS: z.coerce.number().int().min(10).max(5_000).default(200),
  });

export type CatalogConfig = z.infer<typeof catalogEnv>;

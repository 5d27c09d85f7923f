import { accessTokenEnv, databaseEnv, serviceEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'users';

export const usersEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(databaseEnv.shape)
  .extend({
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(12).max(128).optional(),
    /** The Dapr secret store holding the signing keys: `secretstore` locally, `kubernetes` in a cluster. */
    SECRET_STORE_NAME: z.string().min(1).default('secretstore'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /** How long a device token (exempt from the account-wide login cap) stays valid. */
    DEVICE_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(730).default(180),
    /** Wrong passwords sent with one device token before it is revoked. */
    DEVICE_TOKEN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(10),
    /** How often signing keys are reloaded, so a rotated secret takes effect without a restart. */
    SIGNING_KEYS_REFRESH_MS: z.coerce.number().int().min(1_000).default(60_000),
  });

export type UsersConfig = z.infer<typeof usersEnv>;

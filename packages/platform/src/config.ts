import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);

/**
 * Variables every service reads; Dapr's own names are kept so the same values work
 * under `npm start`, the Dapr CLI and the Kubernetes sidecar injector.
 *
 * @example
 * const config = loadConfig(serviceEnv.extend({ USERS_APP_ID: z.string().default('users') }));
 */
export const serviceEnv = z.object({
  APP_PORT: port,
  APP_HOST: z.string().default('0.0.0.0'),
  /**
   * Where `GET /metrics` is served, on a listener of its own beside the app's (as daprd
   * serves its own); 0 serves none. Never on APP_PORT, which may be public.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  DAPR_HTTP_PORT: port.default(3500),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_API_TOKEN: z.string().min(16).optional(),
  APP_API_TOKEN: z.string().min(16, 'APP_API_TOKEN must be set: the app refuses calls without it'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
});

export type ServiceEnv = z.infer<typeof serviceEnv>;

/** What every service needs to verify access tokens; the users service also signs with them. */
export const accessTokenEnv = z.object({
  JWT_ISSUER: z.string().min(1).default('urn:shop:users'),
  JWT_AUDIENCE: z.string().min(1).default('urn:shop:api'),
  /** The Dapr app that serves the JWKS. */
  JWKS_APP_ID: z.string().min(1).default('users'),
});

/** A service with its own SQL database: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export const databaseEnv = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  PGLITE_DATA_DIR: z.string().min(1).optional(),
  /** Off in Kubernetes, where a Helm hook migrates before any replica starts. */
  MIGRATE_ON_START: z.stringbool().default(true),
});

/** What every service that prices things shares: the one currency the shop sells in. */
export const shopCurrencyEnv = z.object({
  /** An ISO 4217 code; a price in any other currency is refused. */
  SHOP_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
    .default('USD'),
});

/** Parses the environment once into a frozen, typed object; throws one error naming every bad variable. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

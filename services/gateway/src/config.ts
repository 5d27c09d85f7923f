import { accessTokenEnv, serviceEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, and the name in this service's logs and metrics. */
export const serviceName = 'gateway';

const windowUnits = { s: 1, m: 60, h: 3600 } as const;

/**
 * A rate-limit budget written `<requests>/<window>`, the window in seconds or with a unit:
 * `20/60s`, `600/1m`, `5000/1h` (`20/60` means seconds).
 */
const rateLimitBudget = z
  .string()
  .trim()
  .regex(/^\d+\/\d+[smh]?$/, 'a budget such as 20/60s (requests per window: s, m or h)')
  .transform((value) => {
    const [requests = '', window = ''] = value.split('/');
    const unit = /[smh]$/.test(window) ? (window.slice(-1) as keyof typeof windowUnits) : 's';
    return {
      requests: Number(requests),
      windowSeconds: Number.parseInt(window, 10) * windowUnits[unit],
    };
  })
  .refine((budget) => budget.requests >= 1 && budget.windowSeconds >= 1, {
    message: 'a budget needs at least 1 request in a window of at least 1 s',
  });

export type RateLimitBudget = z.output<typeof rateLimitBudget>;

export const gatewayEnv = serviceEnv.extend(accessTokenEnv.shape).extend({
  /**
   * The longest an access token lives: users' setting of the same name, which this must not
   * be below; a signed-out session's tokens are refused this long (plus a minute).
   */
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  /** How long the gateway waits for a service before answering 504. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Proxies in front of the gateway whose X-Forwarded-For entries are believed. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  /** Browser origins allowed to call the API (CORS), comma-separated; none when empty. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /** One GraphQL operation's deadline, all its service calls together; then it answers. */
  GRAPHQL_DEADLINE_MS: z.coerce.number().int().min(100).default(15_000),
  /** How long the merged OpenAPI document keeps each service's part before asking again. */
  OPENAPI_CACHE_TTL_MS: z.coerce.number().int().min(0).default(300_000),
  /** The Redis (`host:port`) where every gateway replica keeps one set of rate-limit counters. */
  REDIS_HOST: z.string().min(1, 'REDIS_HOST must name the Redis that holds the rate limits'),
  REDIS_PASSWORD: z.string().optional(),
  /** TLS to that Redis (the chart's redis.tls; its CA comes in by NODE_EXTRA_CA_CERTS). */
  REDIS_TLS: z.stringbool().default(false),
  /** Sign-up, login, refresh and logout (/api/v1/auth), per client address. */
  RATE_LIMIT_AUTH: rateLimitBudget.prefault('20/60s'),
  /** Product search (GET /api/v1/products with `q`), per user or else per client address. */
  RATE_LIMIT_SEARCH: rateLimitBudget.prefault('60/60s'),
  /** Checkout (POST /api/v1/orders), per user. */
  RATE_LIMIT_CHECKOUT: rateLimitBudget.prefault('10/60s'),
  /** Every other public route, per user or else per client address. */
  RATE_LIMIT_DEFAULT: rateLimitBudget.prefault('300/60s'),
  /**
   * Requests refused for a missing or bad access token, per client address; once spent,
   * the address's requests that carry a token or need one are refused unverified.
   */
  RATE_LIMIT_UNVERIFIED: rateLimitBudget.prefault('60/60s'),
  /**
   * How long an idle client connection stays open. Longer than a load balancer's idle
   * timeout (60 s on AWS ALB, GCP's and most ingress controllers'), so the balancer, not the
   * gateway, closes an idle connection and never sends a request on one being closed; the
   * time allowed for a request's headers is one second more.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(240_000).default(65_000),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

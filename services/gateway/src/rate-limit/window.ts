import type { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitBudget } from '../config.ts';

/**
 * One fixed window per caller and budget, over Redis with rate-limiter-flexible. The window
 * is the key's life in Redis, so Redis's clock ends it, the same for every replica (whose
 * own clocks differ).
 */
export function windowLimiter(
  options: { redis: Redis; keyPrefix?: string | undefined },
  name: string,
  budget: RateLimitBudget,
): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: options.redis,
    // Fail at once while disconnected, rather than queue behind a reconnect.
    rejectIfRedisNotReady: true,
    points: budget.requests,
    duration: budget.windowSeconds,
    keyPrefix: `${options.keyPrefix ?? 'gateway:rate-limit'}:${name}`,
  });
}

/** Seconds until the window ends, at least 1, as Retry-After and the `t` parameter say it. */
export const resetSeconds = (result: RateLimiterRes): number =>
  Math.max(1, Math.ceil(result.msBeforeNext / 1000));

// draft-ietf-httpapi-ratelimit-headers, as the users service's login throttle writes them:
// one list item per budget in each header.

/** A budget's item in `RateLimit-Policy`. */
export const policyItem = (name: string, budget: RateLimitBudget): string =>
  `"${name}";q=${budget.requests};w=${budget.windowSeconds}`;

/** A budget's item in `RateLimit`: what is left of it and when its window ends. */
export const stateItem = (name: string, remaining: number, reset: number): string =>
  `"${name}";r=${remaining};t=${reset}`;

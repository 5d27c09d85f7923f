import { AppError, type Logger } from '@shop/platform';
import type { Context } from 'hono';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { clientAddress } from '../proxy/client-address.ts';
import { type BudgetName, budgetFor, type RateLimitBudgets } from './budgets.ts';

export type RateLimitOptions = {
  /** The shared store; every replica that uses the same Redis spends the same budgets. */
  redis: Redis;
  budgets: RateLimitBudgets;
  logger: Logger;
  /** The app's registry, where the refused and unchecked requests are counted. */
  registry: Registry;
  trustedProxyHops: number;
  /** Prefix of every key in Redis. */
  keyPrefix?: string;
};

/**
 * Spends one request of the budget `c` falls under, for the caller `c.get('user')` names
 * or else for the client address, and returns the RateLimit headers for its response
 * (none when the store could not be asked); throws 429 once the budget is spent.
 */
export type RateLimit = (c: Context) => Promise<Record<string, string>>;

// At most one warning per interval while the store is down, however many requests pass.
const warningIntervalMs = 10_000;

/**
 * Per-client budgets over Redis with rate-limiter-flexible, one fixed window per budget
 * and caller. Fails open: when Redis does not answer, the request passes unchecked, with a
 * warning and `gateway_rate_limit_unchecked_total`.
 *
 * @example
 * const rateLimit = createRateLimit({ redis, budgets, logger, registry: app.metricsRegistry, trustedProxyHops: 0 });
 * const headers = await rateLimit(c); // throws AppError('rate_limited') when spent
 */
export function createRateLimit(options: RateLimitOptions): RateLimit {
  const { budgets, logger } = options;
  const keyPrefix = options.keyPrefix ?? 'gateway:rate-limit';
  const limiters = Object.fromEntries(
    Object.entries(budgets).map(([name, budget]) => [
      name,
      new RateLimiterRedis({
        storeClient: options.redis,
        // Fail at once while disconnected, rather than queue behind a reconnect.
        rejectIfRedisNotReady: true,
        points: budget.requests,
        duration: budget.windowSeconds,
        keyPrefix: `${keyPrefix}:${name}`,
      }),
    ]),
  ) as Record<BudgetName, RateLimiterRedis>;

  const refused = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 because their rate-limit budget was spent',
    labelNames: ['budget'] as const,
    registers: [options.registry],
  });
  const unchecked = new Counter({
    name: 'gateway_rate_limit_unchecked_total',
    help: 'Requests let through unchecked because the rate-limit store did not answer',
    labelNames: ['budget'] as const,
    registers: [options.registry],
  });
  let lastWarning = 0;
  let uncheckedSinceWarning = 0;

  return async (c) => {
    const url = new URL(c.req.url);
    const name = budgetFor(c.req.method, c.req.path, url);
    const budget = budgets[name];
    // Set only where the route's access policy verified a token, which is always before this.
    const user: { id: string } | undefined = c.get('user');
    const caller = user
      ? `user:${user.id}`
      : `address:${clientAddress(c, options.trustedProxyHops) ?? 'unknown'}`;

    let result: RateLimiterRes;
    let spent = false;
    try {
      result = await limiters[name].consume(caller);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        unchecked.inc({ budget: name });
        uncheckedSinceWarning += 1;
        if (Date.now() - lastWarning >= warningIntervalMs) {
          logger.warn('rate-limit store unavailable; requests pass unchecked', {
            budget: name,
            unchecked: uncheckedSinceWarning,
            error,
          });
          lastWarning = Date.now();
          uncheckedSinceWarning = 0;
        }
        return {};
      }
      result = error;
      spent = true;
    }

    // draft-ietf-httpapi-ratelimit-headers, as the users service's login throttle writes them.
    const reset = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    const headers = {
      'ratelimit-policy': `"${name}";q=${budget.requests};w=${budget.windowSeconds}`,
      ratelimit: `"${name}";r=${result.remainingPoints};t=${reset}`,
    };
    if (spent) {
      refused.inc({ budget: name });
      throw new AppError('rate_limited', `too many requests; try again in ${reset} s`, {
        headers: { ...headers, 'retry-after': String(reset) },
      });
    }
    return headers;
  };
}

import { AppError, type Logger } from '@shop/platform';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitBudget } from '../config.ts';
import { clientAddress } from '../proxy/client-address.ts';
import { upstreamFor } from '../proxy/upstreams.ts';
import { failOpen } from './fail-open.ts';
import { policyItem, resetSeconds, stateItem, windowLimiter } from './window.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set where a presented token failed verification but the request went on anyway. */
    tokenRejected: boolean;
  }
}

/** The budget name in the RateLimit headers. */
const policyName = 'unverified';

/** What the gateway allows when RATE_LIMIT_UNVERIFIED is not set. */
export const defaultUnverifiedBudget: RateLimitBudget = { requests: 60, windowSeconds: 60 };

export type PreAuthLimitOptions = {
  /** The shared store; every replica that uses the same Redis spends the same budgets. */
  redis: Redis;
  /** Failed token checks allowed per client address and window. */
  budget: RateLimitBudget;
  logger: Logger;
  registry: Registry;
  trustedProxyHops: number;
  /** Prefix of every key in Redis. */
  keyPrefix?: string;
  /** The clock of the warnings while the store is down; Date.now unless given. */
  now?: (() => number) | undefined;
};

/**
 * For a request whose presented token failed verification and was not refused for it
 * (a logout goes on without one), so it still counts against its address.
 */
export function noteRejectedToken(c: Context): void {
  c.set('tokenRejected', true);
}

// A request that will have a token checked: it carries one, or its route needs one.
function needsTokenCheck(c: Context): boolean {
  return (
    c.req.header('authorization') !== undefined || upstreamFor(c.req.path)?.access === 'required'
  );
}

function wasRejected(c: Context): boolean {
  const refused = c.error instanceof AppError && c.error.code === 'unauthenticated';
  return refused || c.get('tokenRejected') === true;
}

/** The budget's store: checks without spending, spends without refusing; both fail open. */
function addressBudget(options: PreAuthLimitOptions) {
  const { budget } = options;
  const limiter = windowLimiter(options, policyName, budget);
  const unchecked = failOpen({
    ...options,
    metric: 'gateway_unverified_unchecked_total',
    help: 'Token checks not limited per address because the rate-limit store did not answer',
    warning: 'rate-limit store unavailable; token checks pass unlimited',
  });
  const headersOf = (result: RateLimiterRes) => {
    const reset = resetSeconds(result);
    const ratelimit = stateItem(policyName, result.remainingPoints, reset);
    return { reset, headers: { 'ratelimit-policy': policyItem(policyName, budget), ratelimit } };
  };
  return {
    headersOf,
    /** The address's state once spent, else `{}`; undefined when the store did not answer. */
    async check(address: string): Promise<{ spent?: RateLimiterRes } | undefined> {
      try {
        const result = await limiter.get(address);
        return result && result.consumedPoints >= budget.requests ? { spent: result } : {};
      } catch (error) {
        unchecked(error);
        return undefined;
      }
    },
    /** Spends one request; the headers to add, none when the store did not answer. */
    async spend(address: string): Promise<Record<string, string>> {
      try {
        return headersOf(await limiter.penalty(address, 1)).headers;
      } catch (error) {
        unchecked(error);
        return {};
      }
    },
  };
}

/**
 * The budget every request spends before a token of it is verified (an Ed25519 signature
 * check): each one the gateway refuses as unauthenticated (no, a malformed, forged,
 * expired or revoked token) spends one request of its client address's `unverified`
 * budget, and once that is spent, every request from the address that would have a token
 * checked is refused with 429 and RateLimit headers, unverified. A valid token spends
 * nothing here, and other addresses are not affected. Fails open, as the budgets do.
 *
 * Mount it before every route that verifies tokens (the proxy, GraphQL).
 *
 * @example
 * app.use('*', preAuthLimit({ redis, budget: { requests: 60, windowSeconds: 60 }, logger, registry: app.metricsRegistry, trustedProxyHops: 0 }));
 */
export function preAuthLimit(options: PreAuthLimitOptions): MiddlewareHandler {
  const budget = addressBudget(options);
  const refused = new Counter({
    name: 'gateway_unverified_limited_total',
    help: 'Requests refused with 429, unverified, because their address sent too many bad tokens',
    registers: [options.registry],
  });
  return async (c, next) => {
    if (!needsTokenCheck(c)) return next();
    const address = clientAddress(c, options.trustedProxyHops) ?? 'unknown';
    const checked = await budget.check(address);
    if (checked?.spent) {
      refused.inc();
      const { reset, headers } = budget.headersOf(checked.spent);
      throw new AppError(
        'rate_limited',
        `too many requests without a valid access token from this address; try again in ${reset} s`,
        { headers: { ...headers, 'retry-after': String(reset) } },
      );
    }
    await next();
    if (!checked || !wasRejected(c)) return;
    // Appended, beside the policy of a budget the request spent too (a logout's).
    for (const [name, value] of Object.entries(await budget.spend(address))) {
      c.res.headers.append(name, value);
    }
  };
}

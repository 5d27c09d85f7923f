import { AppError, type Logger } from '@shop/platform';
import type { Context } from 'hono';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { type RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { clientAddress } from '../proxy/client-address.ts';
import { type BudgetName, budgetFor, type RateLimitBudgets } from './budgets.ts';
import { failOpen } from './fail-open.ts';
import { policyItem, resetSeconds, stateItem, windowLimiter } from './window.ts';

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
  /**
   * The clock of the warnings while the store is down (Date.now unless given); the windows
   * themselves end by Redis's clock, shared by every replica.
   */
  now?: (() => number) | undefined;
};

/** Points to spend from each budget at once (a GraphQL operation: one per root field). */
export type BudgetCosts = Partial<Record<BudgetName, number>>;

/**
 * Spends one request of the budget `c` falls under, for the caller `c.get('user')` names
 * or else for the client address, and returns the RateLimit headers for its response
 * (none when the store could not be asked); throws 429 once the budget is spent.
 * `spend` does the same for several points of several budgets, all or nothing.
 */
export type RateLimit = ((c: Context) => Promise<Record<string, string>>) & {
  spend: (c: Context, costs: BudgetCosts) => Promise<Record<string, string>>;
};

type Outcome =
  | { name: BudgetName; points: number; kind: 'spent' | 'refused'; result: RateLimiterRes }
  | { name: BudgetName; points: number; kind: 'unchecked' };

/** The budgets' limiters, and what to do when their store does not answer. */
type Store = {
  limiters: Record<BudgetName, RateLimiterRedis>;
  unchecked: (error: unknown, labels: { budget: BudgetName }) => void;
  logger: Logger;
};

/**
 * Per-client budgets over Redis with rate-limiter-flexible, one fixed window per budget
 * and caller. A spend is all or nothing: when any budget refuses, every point it took
 * (from the refusing budget too, whose counter the refused attempt raised) is given back,
 * so a refused request spends nothing. Fails open: when Redis does not answer, the
 * request passes unchecked, with a warning and `gateway_rate_limit_unchecked_total`.
 *
 * @example
 * const rateLimit = createRateLimit({ redis, budgets, logger, registry: app.metricsRegistry, trustedProxyHops: 0 });
 * const headers = await rateLimit(c); // throws AppError('rate_limited') when spent
 * await rateLimit.spend(c, { checkout: 2, default: 3 });
 */
export function createRateLimit(options: RateLimitOptions): RateLimit {
  const { budgets } = options;
  const store: Store = {
    limiters: Object.fromEntries(
      Object.entries(budgets).map(([name, budget]) => [name, windowLimiter(options, name, budget)]),
    ) as Record<BudgetName, RateLimiterRedis>,
    unchecked: failOpen({
      ...options,
      metric: 'gateway_rate_limit_unchecked_total',
      help: 'Requests let through unchecked because the rate-limit store did not answer',
      warning: 'rate-limit store unavailable; requests pass unchecked',
      labelNames: ['budget'],
    }),
    logger: options.logger,
  };
  const refused = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 because their rate-limit budget was spent',
    labelNames: ['budget'] as const,
    registers: [options.registry],
  });

  const spend = async (c: Context, costs: BudgetCosts) => {
    const caller = callerOf(c, options.trustedProxyHops);
    const wanted = (Object.entries(costs) as Array<[BudgetName, number]>).filter(
      ([, points]) => points > 0,
    );
    const outcomes = await Promise.all(
      wanted.map(([name, points]) => attempt(store, { name, caller, points })),
    );
    const refusals = outcomes.filter((outcome) => outcome.kind === 'refused');
    if (refusals.length === 0) return headersFor(outcomes, budgets);
    await giveBack(store, outcomes, caller);
    for (const { name } of refusals) refused.inc({ budget: name });
    throw refusal(refusals, budgets);
  };

  const rateLimit = (c: Context) =>
    spend(c, { [budgetFor(c.req.method, c.req.path, new URL(c.req.url))]: 1 });
  return Object.assign(rateLimit, { spend });
}

async function attempt(
  store: Store,
  { name, caller, points }: { name: BudgetName; caller: string; points: number },
): Promise<Outcome> {
  try {
    return {
      name,
      points,
      kind: 'spent',
      result: await store.limiters[name].consume(caller, points),
    };
  } catch (error) {
    if (error instanceof RateLimiterRes) return { name, points, kind: 'refused', result: error };
    store.unchecked(error, { budget: name });
    return { name, points, kind: 'unchecked' };
  }
}

async function giveBack(store: Store, outcomes: Outcome[], caller: string) {
  await Promise.all(
    outcomes.map(async (outcome) => {
      if (outcome.kind === 'unchecked') return;
      // Best effort: a failure here leaves the points spent until the window ends.
      await store.limiters[outcome.name].reward(caller, outcome.points).catch((error: unknown) => {
        store.logger.warn('could not give back rate-limit points', { budget: outcome.name, error });
      });
    }),
  );
}

/** Whose budget: the user a verified token names, else the client address. */
function callerOf(c: Context, trustedProxyHops: number): string {
  // Set only where the route's access policy verified a token, which is always before this.
  const user: { id: string } | undefined = c.get('user');
  return user ? `user:${user.id}` : `address:${clientAddress(c, trustedProxyHops) ?? 'unknown'}`;
}

type Measured = { name: BudgetName; remaining: number; reset: number };

// One list item per budget the request touched.
function rateLimitHeaders(measured: Measured[], budgets: RateLimitBudgets) {
  return {
    'ratelimit-policy': measured.map(({ name }) => policyItem(name, budgets[name])).join(', '),
    ratelimit: measured
      .map(({ name, remaining, reset }) => stateItem(name, remaining, reset))
      .join(', '),
  };
}

function headersFor(outcomes: Outcome[], budgets: RateLimitBudgets): Record<string, string> {
  const measured = outcomes.flatMap((outcome) =>
    outcome.kind === 'unchecked'
      ? []
      : [
          {
            name: outcome.name,
            remaining: outcome.result.remainingPoints,
            reset: resetSeconds(outcome.result),
          },
        ],
  );
  return measured.length ? rateLimitHeaders(measured, budgets) : {};
}

function refusal(refusals: Outcome[], budgets: RateLimitBudgets): AppError {
  const measured = refusals.flatMap((outcome) => {
    if (outcome.kind === 'unchecked') return [];
    const spentBefore = outcome.result.consumedPoints - outcome.points;
    const remaining = Math.max(0, budgets[outcome.name].requests - spentBefore);
    return [
      {
        name: outcome.name,
        points: outcome.points,
        remaining,
        reset: resetSeconds(outcome.result),
      },
    ];
  });
  const retryAfter = Math.max(...measured.map(({ reset }) => reset));
  const tooBig = measured.find(({ name, points }) => points > budgets[name].requests);
  const detail = tooBig
    ? `this request needs ${tooBig.points} of the ${tooBig.name} budget, which allows ` +
      `${budgets[tooBig.name].requests} per ${budgets[tooBig.name].windowSeconds} s; ask for less at once`
    : `too many requests; try again in ${retryAfter} s`;
  return new AppError('rate_limited', detail, {
    headers: { ...rateLimitHeaders(measured, budgets), 'retry-after': String(retryAfter) },
  });
}

import type { RateLimitBudget } from '../config.ts';

/** The separate budgets; each name is also the policy name in the RateLimit headers. */
export type BudgetName = 'auth' | 'search' | 'checkout' | 'default';

export type RateLimitBudgets = Record<BudgetName, RateLimitBudget>;

/** The budgets as the gateway's environment sets them (RATE_LIMIT_AUTH and so on). */
export function budgetsFrom(config: {
  RATE_LIMIT_AUTH: RateLimitBudget;
  RATE_LIMIT_SEARCH: RateLimitBudget;
  RATE_LIMIT_CHECKOUT: RateLimitBudget;
  RATE_LIMIT_DEFAULT: RateLimitBudget;
}): RateLimitBudgets {
  return {
    auth: config.RATE_LIMIT_AUTH,
    search: config.RATE_LIMIT_SEARCH,
    checkout: config.RATE_LIMIT_CHECKOUT,
    default: config.RATE_LIMIT_DEFAULT,
  };
}

/** Which budget a request spends: `url` is the request's, `path` the routed (decoded) path. */
export function budgetFor(method: string, path: string, url: URL): BudgetName {
  if (path === '/api/v1/auth' || path.startsWith('/api/v1/auth/')) return 'auth';
  // A search ranks the whole catalog; a plain listing is a cheap keyset page.
  if (method === 'GET' && path === '/api/v1/products' && url.searchParams.get('q')) {
    return 'search';
  }
  // The cart's checkout places an order through orders: the same budget.
  if (method === 'POST' && (path === '/api/v1/orders' || path === '/api/v1/cart/checkout')) {
    return 'checkout';
  }
  return 'default';
}

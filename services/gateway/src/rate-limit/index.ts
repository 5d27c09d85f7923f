export { type BudgetName, budgetsFrom, type RateLimitBudgets } from './budgets.ts';
export {
  type BudgetCosts,
  createRateLimit,
  type RateLimit,
  type RateLimitOptions,
} from './limiter.ts';
export { connectRateLimitStore } from './store.ts';

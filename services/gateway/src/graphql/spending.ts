import { AppError } from '@shop/platform';
import type { Plugin } from 'graphql-yoga';
import type { BudgetCosts } from '../rate-limit/index.ts';
import { operationCosts } from './operation.ts';
import { problemError } from './upstream.ts';

/**
 * One request's account with the gateway's rate limit, shared by the GraphQL plugins and
 * the HTTP handler that answers: what was spent (and its RateLimit headers), or the
 * problem to answer instead of a GraphQL result (429 over a budget, 400 over a limit).
 */
export type Spending = {
  /** Spends the points or throws AppError('rate_limited'); absent without a rate limit. */
  spend?: ((costs: BudgetCosts) => Promise<Record<string, string>>) | undefined;
  spent: boolean;
  headers: Record<string, string>;
  refusal?: AppError;
};

/**
 * An operation over one of the limits (depth, cost, aliases, root fields) ran nothing and
 * has no data: the gateway refuses it as REST refuses a request, 400 problem+json naming
 * the limit, not as a GraphQL result. Errors beside data (a timeline cap, the deadline)
 * stay GraphQL errors.
 */
export function limitRefusals(): Plugin<Record<string, never>, { spending: Spending }> {
  return {
    onResultProcess({ result, serverContext }) {
      if (Symbol.asyncIterator in result || Array.isArray(result)) return;
      if (result.data !== undefined && result.data !== null) return;
      const overLimit = result.errors?.find((error) => error.extensions?.limit !== undefined);
      if (overLimit)
        serverContext.spending.refusal = new AppError('bad_request', overLimit.message);
    },
  };
}

/**
 * Before an operation runs, once its variables are known, it spends one point per root
 * field from the budget REST spends for the same call (see operationCosts); refused, it
 * runs nothing and the handler answers 429 as REST does.
 */
export function spendingPlugin(): Plugin<{ spending: Spending }> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const { spending } = args.contextValue;
      if (!spending.spend) return;
      const costs = operationCosts(args.document, args.operationName, args.variableValues);
      try {
        spending.headers = await spending.spend(costs);
        spending.spent = true;
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
        spending.refusal = error;
        spending.spent = true;
        setResultAndStopExecution({ errors: [problemError('rate_limited', error.message)] });
      }
    },
  };
}

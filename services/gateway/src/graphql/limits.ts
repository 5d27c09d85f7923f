import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { problemError } from './upstream.ts';

export type QueryLimits = {
  /** Fields nested in fields (fragments flattened); the schema's own deepest read is 5. */
  maxDepth: number;
  /** graphql-armor's cost: 2 per object, 1 per scalar, x1.5 per level, x a literal `first`. */
  maxCost: number;
};

export const defaultQueryLimits: QueryLimits = { maxDepth: 7, maxCost: 5_000 };

// Armor's rules report the breach as a validation error, before any resolver runs and so
// before any service is called; it becomes a bad_request naming the limit.
function refuse(limit: 'depth' | 'cost') {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const refused = problemError('bad_request', error.message.replace(/^Syntax Error: /, ''), {
      extensions: { limit },
    });
    if (!context) throw refused;
    context.reportError(refused);
  };
}

/** Depth and cost limits, checked when a document is validated. */
export function queryLimitPlugins(limits: QueryLimits): Plugin[] {
  return [
    maxDepthPlugin({
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [refuse('depth')],
    }),
    costLimitPlugin({
      maxCost: limits.maxCost,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [refuse('cost')],
    }),
  ] as Plugin[];
}

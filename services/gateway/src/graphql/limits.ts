import { costLimitPlugin, costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  GraphQLError,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { effectiveVariables, fragmentsOf, rootFields, type Variables } from './operation.ts';
import { problemError } from './upstream.ts';

export type QueryLimits = {
  /** Fields nested in fields (fragments flattened); the schema's own deepest read is 5. */
  maxDepth: number;
  /**
   * graphql-armor's cost: 2 per object, 1 per scalar, x1.5 per level, x `first` (written
   * literally or sent as a variable).
   */
  maxCost: number;
  /** Aliases in one document, at any depth (`__typename` aliases are free). */
  maxAliases: number;
  /** Fields of an operation's root (each alias one); each spends its REST budget. */
  maxRootFields: number;
  /** `Order.timeline` reads in one request: the orders service reads them one order at a time. */
  maxTimelines: number;
};

export const defaultQueryLimits: QueryLimits = {
  maxDepth: 7,
  maxCost: 5_000,
  maxAliases: 15,
  maxRootFields: 10,
  maxTimelines: 20,
};

type Limit = 'depth' | 'cost' | 'aliases' | 'root_fields';

// Armor's rules report the breach as a validation error, before any resolver runs and so
// before any service is called; it becomes a bad_request naming the limit.
function refuse(limit: Limit) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const refused = problemError('bad_request', error.message.replace(/^Syntax Error: /, ''), {
      extensions: { limit },
    });
    if (!context) throw refused;
    context.reportError(refused);
  };
}

/** At most `n` root fields, counted through fragments, one per response name. */
function maxRootFieldsRule(n: number): ValidationRule {
  const reject = refuse('root_fields');
  return (context) => ({
    OperationDefinition(operation) {
      const found = rootFields(operation, fragmentsOf(context.getDocument())).size;
      if (found > n) {
        reject(context, new GraphQLError(`Root fields limit of ${n} exceeded, found ${found}.`));
      }
    },
  });
}

const costOptions = (limits: QueryLimits) => ({
  maxCost: limits.maxCost,
  flattenFragments: true,
  propagateOnRejection: false,
  onReject: [refuse('cost')],
});

// Armor multiplies by `first` only when it is an integer literal: write the variables'
// values in, so a cost check of this copy counts them.
function withPageSizesWritten(document: DocumentNode, variables: Variables): DocumentNode {
  return visit(document, {
    Argument(argument) {
      if (argument.name.value !== 'first' || argument.value.kind !== Kind.VARIABLE) return;
      const value = variables[argument.value.name.value];
      if (!Number.isSafeInteger(value)) return;
      return { ...argument, value: { kind: Kind.INT, value: String(value) } };
    },
  });
}

// Armor's cost rule over one operation, outside validation: it reads only the fragments
// and reports through onReject, and graphql's validate() would refuse a schema built by
// another copy of graphql (test runners load both of its builds).
function costErrors(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  limits: QueryLimits,
) {
  const errors: GraphQLError[] = [];
  const fragments = fragmentsOf(document);
  const context = {
    getFragment: (name: string) => fragments.get(name),
    reportError: (error: GraphQLError) => errors.push(error),
  } as unknown as ValidationContext;
  visit(operation, costLimitRule(costOptions(limits))(context));
  return errors;
}

/**
 * The cost check again once the variables are known, before anything runs: validation,
 * cached per document, sees only literals.
 */
function variableCostPlugin(limits: QueryLimits): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation?.variableDefinitions?.length) return;
      const variables = effectiveVariables(operation, args.variableValues);
      const document = withPageSizesWritten(args.document, variables);
      const written = getOperationAST(document, args.operationName);
      const errors = written ? costErrors(document, written, limits) : [];
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/**
 * Depth, alias, root field and cost limits, checked when a document is validated, and the
 * cost again with the variables' page sizes before it runs.
 */
export function queryLimitPlugins(limits: QueryLimits): Plugin[] {
  return [
    maxDepthPlugin({
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [refuse('depth')],
    }),
    maxAliasesPlugin({
      n: limits.maxAliases,
      propagateOnRejection: false,
      onReject: [refuse('aliases')],
    }),
    {
      onValidate({ addValidationRule }) {
        addValidationRule(maxRootFieldsRule(limits.maxRootFields));
      },
    },
    costLimitPlugin(costOptions(limits)),
    variableCostPlugin(limits),
  ] as Plugin[];
}

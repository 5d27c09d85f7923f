import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';
import type { BudgetCosts, BudgetName } from '../rate-limit/index.ts';

export type Variables = Record<string, unknown>;

/**
 * The fields an operation's root selection runs, one per response name (`a: placeOrder`
 * and `b: placeOrder` are two), fragments and inline fragments followed. `@skip` and
 * `@include` are not evaluated: a field written is a field counted.
 */
export function rootFields(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): Map<string, FieldNode> {
  const fields = new Map<string, FieldNode>();
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const responseName = selection.alias?.value ?? selection.name.value;
        if (!fields.has(responseName)) fields.set(responseName, selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return fields;
}

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(
    document.definitions
      .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
}

/** The variables as the operation runs with them: those sent, else the declared defaults. */
export function effectiveVariables(
  operation: OperationDefinitionNode,
  sent: Variables | null | undefined,
): Variables {
  const values: Variables = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (sent && name in sent) values[name] = sent[name];
    else if (definition.defaultValue) values[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return values;
}

/** An argument's value with its variables filled in; undefined when absent. */
export function argumentValue(field: FieldNode, name: string, variables: Variables): unknown {
  const argument = field.arguments?.find((one) => one.name.value === name);
  return argument ? valueFromASTUntyped(argument.value as ValueNode, variables) : undefined;
}

/**
 * Which REST budget a root field spends, as the same call over REST would: placing an
 * order or checking out the cart is checkout, registering (createUser) is auth, `products`
 * with a non-empty `q` is a search, the rest the default.
 */
export function budgetOfField(field: FieldNode, variables: Variables): BudgetName {
  const name = field.name.value;
  if (name === 'placeOrder' || name === 'checkoutCart') return 'checkout';
  if (name === 'createUser') return 'auth';
  if (name === 'products') {
    const q = argumentValue(field, 'q', variables);
    if (typeof q === 'string' && q !== '') return 'search';
  }
  return 'default';
}

/** What an operation spends: one point per root field from that field's budget. */
export function operationCosts(
  document: DocumentNode,
  operationName: string | null | undefined,
  sent: Variables | null | undefined,
): BudgetCosts {
  const operation = getOperationAST(document, operationName);
  // Execution refuses an unknown operation name without running anything: it costs one.
  if (!operation) return { default: 1 };
  const variables = effectiveVariables(operation, sent);
  const costs: BudgetCosts = {};
  for (const field of rootFields(operation, fragmentsOf(document)).values()) {
    const budget = budgetOfField(field, variables);
    costs[budget] = (costs[budget] ?? 0) + 1;
  }
  return costs;
}

import { AppError, type Logger, type Sidecar } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { createGraphQLError, createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { type Context, Hono } from 'hono';
import { callerRequest } from '../proxy/caller.ts';
import type { RateLimit } from '../rate-limit/index.ts';
import { graphiqlAssetsPath, graphiqlPage, serveGraphiqlAsset, wantsGraphiql } from './graphiql.ts';
import { defaultQueryLimits, type QueryLimits, queryLimitPlugins } from './limits.ts';
import { productLoader, timelineLoader } from './loaders.ts';
import { type GraphQLContext, resolvers } from './resolvers.ts';
import { limitRefusals, type Spending, spendingPlugin } from './spending.ts';
import { typeDefs } from './type-defs.ts';
import { createUpstream, type ErrorCode, problemError } from './upstream.ts';

export type GraphQLDeps = {
  sidecar: Pick<Sidecar, 'invoke'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  logger: Logger;
  config: {
    UPSTREAM_TIMEOUT_MS: number;
    TRUSTED_PROXY_HOPS: number;
    /** One operation's time, all its service calls included (default 15 s). */
    GRAPHQL_DEADLINE_MS?: number | undefined;
  };
  limits?: QueryLimits;
  /** The gateway's rate limit: each root field spends the budget its REST call would. */
  rateLimit?: RateLimit | undefined;
};

export const defaultGraphqlDeadlineMs = 15_000;

type ServerContext = GraphQLContext & { requestId: string; spending: Spending };

const ourProblem = 'urn:shop:problem:';

// By name, not instanceof: graphql ships CommonJS and ESM builds, and a bundler or test
// runner may load both, so the errors Yoga and the executor make need not be of our class.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

// GraphQL's own refusals, in the platform's codes: what REST calls a malformed request or
// one that does not match the schema.
const graphqlCodes: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'bad_request',
  GRAPHQL_VALIDATION_FAILED: 'validation_failed',
  BAD_USER_INPUT: 'validation_failed',
  BAD_REQUEST: 'bad_request',
};

function withProblemCode(error: GraphQLError, requestId: string): GraphQLError {
  const extensions = error.extensions ?? {};
  const type = typeof extensions.type === 'string' ? extensions.type : '';
  const known = type.startsWith(ourProblem)
    ? undefined
    : problemError(graphqlCodes[String(extensions.code)] ?? 'internal', error.message);
  // Errors of a cached validation are shared between requests: copy, never change them.
  return createGraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions: {
      ...extensions,
      ...known?.extensions,
      ...(extensions.requestId ? {} : { requestId }),
    },
  });
}

/** Every error leaves with a platform problem code, its REST type and status, and the request id. */
function problemCodes(): Plugin<Record<string, never>, ServerContext> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      // No subscriptions or incremental delivery here, so no stream of results to follow.
      if (Symbol.asyncIterator in result) return;
      const decorate = (one: ExecutionResult): ExecutionResult =>
        one.errors
          ? {
              ...one,
              errors: one.errors.map((e) => withProblemCode(e, serverContext.requestId)),
            }
          : one;
      setResult(Array.isArray(result) ? result.map(decorate) : decorate(result));
    },
  };
}

// A resolver's error keeps its problem; anything else is logged once and answered generically.
function maskedError(logger: Logger) {
  return (error: unknown): Error => {
    const original = isGraphQLError(error) ? error.originalError : error;
    if (isGraphQLError(error) && (!original || isGraphQLError(original))) return error;
    logger.error('unhandled error', { error: original });
    return problemError(
      'internal',
      'an unexpected error occurred; quote the request id when reporting it',
    );
  };
}

function gatewayYoga(limits: QueryLimits, logger: Logger) {
  return createYoga<ServerContext>({
    schema: createSchema<ServerContext>({ typeDefs, resolvers }),
    graphqlEndpoint: '/graphql',
    // Cross-origin policy, like every other header policy, is the gateway's, not Yoga's.
    cors: false,
    landingPage: false,
    logging: false,
    // The gateway serves GraphiQL's page and files itself (graphiql.ts).
    graphiql: false,
    maskedErrors: { maskError: maskedError(logger) },
    // The limits first: an operation over one is refused before it spends anything.
    plugins: [...queryLimitPlugins(limits), spendingPlugin(), problemCodes(), limitRefusals()],
  });
}

type Yoga = ReturnType<typeof gatewayYoga>;

// Runs the request in Yoga with one deadline for the whole operation; returns its answer,
// while `spending` records what it spent of the caller's budgets.
async function execute(
  c: Context,
  deps: GraphQLDeps & { yoga: Yoga; limits: QueryLimits; deadlineMs: number },
  spending: Spending,
): Promise<Response> {
  const { deadlineMs, limits } = deps;
  const upstream = createUpstream(
    { ...deps, config: { ...deps.config, GRAPHQL_DEADLINE_MS: deadlineMs } },
    callerRequest(c, deps.config.TRUSTED_PROXY_HOPS),
    AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(deadlineMs)]),
  );
  return deps.yoga.fetch(c.req.raw, {
    requestId: c.get('requestId'),
    upstream,
    products: productLoader(upstream),
    timelines: timelineLoader(upstream, limits.maxTimelines),
    spending,
  });
}

/**
 * The operation's answer with the RateLimit headers of what it spent, or the problem it
 * was refused with (429 over a budget, 400 over a limit) instead of a GraphQL result.
 */
async function answered(response: Response, spending: Spending): Promise<Response> {
  if (spending.refusal?.code === 'rate_limited') {
    await response.body?.cancel();
    throw spending.refusal;
  }
  // A request refused before it ran (unparsable, invalid, over a limit) still costs
  // one of the default budget, so refusals cannot be sent without end.
  const headers =
    (spending.spent ? spending.headers : await spending.spend?.({ default: 1 })) ?? {};
  if (spending.refusal) {
    await response.body?.cancel();
    throw new AppError(spending.refusal.code, spending.refusal.message, { headers });
  }
  for (const [name, value] of Object.entries(headers)) response.headers.append(name, value);
  return response;
}

/**
 * GraphQL at POST /graphql (GraphiQL's page at GET /graphql, its files under
 * /graphql/assets): each field is read from its service through the gateway's sidecar on
 * the public REST path, as the client, so the services decide every rule; products
 * referred to by orders come from one catalog batch read per request. A token that is
 * present is checked first, as the REST proxy checks it. Before anything runs, the
 * operation is held to the query limits and spends the REST budgets, one point per root
 * field; all its service calls share one deadline.
 */
export function graphqlRoutes(deps: GraphQLDeps) {
  const limits = deps.limits ?? defaultQueryLimits;
  const operations = {
    ...deps,
    yoga: gatewayYoga(limits, deps.logger),
    limits,
    deadlineMs: deps.config.GRAPHQL_DEADLINE_MS ?? defaultGraphqlDeadlineMs,
  };
  const verify = authenticate(deps.verifier);

  return new Hono().get(`${graphiqlAssetsPath}/:version/:file`, serveGraphiqlAsset).on(
    ['GET', 'POST'],
    '/graphql',
    async (c, next) => {
      if (wantsGraphiql(c)) {
        c.header('cache-control', 'no-cache');
        return c.html(graphiqlPage);
      }
      return c.req.header('authorization') ? verify(c, next) : next();
    },
    async (c) => {
      const rateLimit = deps.rateLimit;
      const spending: Spending = {
        spend: rateLimit && ((costs) => rateLimit.spend(c, costs)),
        spent: false,
        headers: {},
      };
      return answered(await execute(c, operations, spending), spending);
    },
  );
}

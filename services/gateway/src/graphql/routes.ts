import type { Logger, Sidecar } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { ExecutionResult, GraphQLError } from 'graphql';
import {
  createGraphQLError,
  createSchema,
  createYoga,
  type GraphiQLOptions,
  type Plugin,
} from 'graphql-yoga';
import { Hono } from 'hono';
import { clientAddress } from '../proxy/client-address.ts';
import type { RateLimit } from '../rate-limit/index.ts';
import { defaultQueryLimits, type QueryLimits, queryLimitPlugins } from './limits.ts';
import { productLoader } from './loaders.ts';
import { type GraphQLContext, resolvers } from './resolvers.ts';
import { typeDefs } from './type-defs.ts';
import { createUpstream, type ErrorCode, problemError } from './upstream.ts';

export type GraphQLDeps = {
  sidecar: Pick<Sidecar, 'invoke'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  logger: Logger;
  config: { UPSTREAM_TIMEOUT_MS: number; TRUSTED_PROXY_HOPS: number };
  limits?: QueryLimits;
  /** The gateway's rate limit: a GraphQL request spends the `default` budget, as REST's rest. */
  rateLimit?: RateLimit | undefined;
};

type ServerContext = GraphQLContext & { requestId: string };

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

// GraphiQL's page with its scripts and styles inlined (about 9 MiB), loaded on the first
// visit only: Yoga's default page fetches them from unpkg.com, which these machines and
// many clusters cannot reach.
const renderLocalGraphiQL = async (options: GraphiQLOptions) =>
  (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);

/**
 * GraphQL at POST /graphql (GraphiQL at GET /graphql): each field is read from its service
 * through the gateway's sidecar on the public REST path, as the client, so the services
 * decide every rule; products referred to by orders come from one catalog batch read per
 * request. A token that is present is checked first, as the REST proxy checks it.
 */
export function graphqlRoutes(deps: GraphQLDeps) {
  const yoga = createYoga<ServerContext>({
    schema: createSchema<ServerContext>({ typeDefs, resolvers }),
    graphqlEndpoint: '/graphql',
    // Cross-origin policy, like every other header policy, is the gateway's, not Yoga's.
    cors: false,
    landingPage: false,
    logging: false,
    graphiql: { title: 'Shop GraphQL' },
    renderGraphiQL: renderLocalGraphiQL,
    maskedErrors: {
      maskError(error) {
        const original = isGraphQLError(error) ? error.originalError : error;
        if (isGraphQLError(error) && (!original || isGraphQLError(original))) return error;
        deps.logger.error('unhandled error', { error: original });
        return problemError(
          'internal',
          'an unexpected error occurred; quote the request id when reporting it',
        );
      },
    },
    plugins: [...queryLimitPlugins(deps.limits ?? defaultQueryLimits), problemCodes()],
  });

  const verify = authenticate(deps.verifier);
  return new Hono().on(
    ['GET', 'POST'],
    '/graphql',
    async (c, next) => (c.req.header('authorization') ? verify(c, next) : next()),
    async (c) => {
      const limitHeaders = (await deps.rateLimit?.(c)) ?? {};
      const authorization = c.req.header('authorization');
      const address = clientAddress(c, deps.config.TRUSTED_PROXY_HOPS);
      const upstream = createUpstream(
        deps,
        {
          requestId: c.get('requestId'),
          traceparent: c.get('traceparent'),
          authorization,
          clientAddress: address,
        },
        c.req.raw.signal,
      );
      const response = await yoga.fetch(c.req.raw, {
        requestId: c.get('requestId'),
        upstream,
        products: productLoader(upstream),
      });
      for (const [name, value] of Object.entries(limitHeaders))
        response.headers.append(name, value);
      return response;
    },
  );
}

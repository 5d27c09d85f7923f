import {
  AppError,
  CircuitOpenError,
  type Logger,
  problemContentType,
  type Sidecar,
} from '@shop/platform';
import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { type CallerRequest, logDaprAnswer, withCaller } from '../proxy/caller.ts';

export type UpstreamDeps = {
  sidecar: Pick<Sidecar, 'invoke'>;
  logger: Logger;
  config: {
    UPSTREAM_TIMEOUT_MS: number;
    /** The whole operation's time, every call included; `signal` ends then. */
    GRAPHQL_DEADLINE_MS: number;
  };
};

export type UpstreamCall = {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
};

/** Calls one service through the gateway's sidecar on behalf of the client. */
export type Upstream = <T>(appId: string, pathAndQuery: string, call?: UpstreamCall) => Promise<T>;

const problemPrefix = 'urn:shop:problem:';

/** The platform's closed set of problem codes (`not_found`, `conflict`, ...). */
export type ErrorCode = AppError['code'];

// AppError owns the one mapping from code to status; an unknown code has none.
const statusOf = (code: string): number | undefined => new AppError(code as ErrorCode, '').status;

type ProblemBody = {
  type?: string;
  detail?: string;
  status?: number;
  requestId?: string;
  errors?: Array<{ path: string; message: string }>;
};

/**
 * The GraphQL face of a problem: `extensions.code` is the code the REST answer names in its
 * `type` (`urn:shop:problem:not-found` → `not_found`), beside that `type`, the HTTP
 * `status` REST would have answered and the request id.
 */
export function problemError(
  code: ErrorCode,
  detail: string,
  extra: {
    requestId?: string;
    errors?: ProblemBody['errors'];
    retryAfterSeconds?: number;
    extensions?: Record<string, unknown>;
  } = {},
): GraphQLError {
  return createGraphQLError(detail, {
    extensions: {
      code,
      type: `${problemPrefix}${code.replaceAll('_', '-')}`,
      status: statusOf(code),
      ...(extra.requestId ? { requestId: extra.requestId } : {}),
      ...(extra.errors ? { errors: extra.errors } : {}),
      ...(extra.retryAfterSeconds ? { retryAfterSeconds: extra.retryAfterSeconds } : {}),
      ...extra.extensions,
    },
  });
}

function codeOf(type: string | undefined): ErrorCode | undefined {
  if (!type?.startsWith(problemPrefix)) return undefined;
  const code = type.slice(problemPrefix.length).replaceAll('-', '_');
  return statusOf(code) === undefined ? undefined : (code as ErrorCode);
}

/** One operation's calls: whom they are for, and the signal that ends them all. */
type Operation = UpstreamDeps & { caller: CallerRequest; signal: AbortSignal };

function unavailable(op: Operation, appId: string, retryAfterSeconds = 1): GraphQLError {
  return problemError(
    'upstream_unavailable',
    `the ${appId} service is unavailable; try again shortly`,
    { requestId: op.caller.requestId, retryAfterSeconds },
  );
}

// The operation's signal ends with a TimeoutError at its deadline, otherwise (an
// AbortError) when the client went away, whom no answer reaches.
function ended(op: Operation): GraphQLError {
  const { requestId } = op.caller;
  if ((op.signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError') {
    return problemError('upstream_unavailable', 'the client went away', { requestId });
  }
  return problemError(
    'upstream_timeout',
    `the operation ran past its deadline of ${op.config.GRAPHQL_DEADLINE_MS} ms; ask for less at once`,
    { requestId, extensions: { limit: 'deadline' } },
  );
}

async function send(
  op: Operation,
  appId: string,
  pathAndQuery: string,
  call: UpstreamCall,
): Promise<Response> {
  const headers = withCaller(new Headers(call.headers), op.caller);
  headers.set('accept', 'application/json');
  if (call.body !== undefined) headers.set('content-type', 'application/json');
  // Past the deadline no new call starts: what is already answered is answered.
  if (op.signal.aborted) throw ended(op);
  try {
    return await op.sidecar.invoke(appId, pathAndQuery, {
      method: call.method ?? 'GET',
      headers,
      body: call.body === undefined ? null : JSON.stringify(call.body),
      signal: AbortSignal.any([op.signal, AbortSignal.timeout(op.config.UPSTREAM_TIMEOUT_MS)]),
    });
  } catch (error) {
    if (error instanceof CircuitOpenError) throw unavailable(op, appId, error.retryAfterSeconds);
    if (op.signal.aborted) throw ended(op);
    op.logger.warn('upstream call failed', { appId, error });
    throw unavailable(op, appId);
  }
}

/** A refusal as the service's own problem with its code; anything else as unavailable. */
async function refusalOf(op: Operation, appId: string, res: Response): Promise<GraphQLError> {
  const contentType = res.headers.get('content-type') ?? '';
  const problem = contentType.startsWith(problemContentType)
    ? ((await res.json().catch(() => ({}))) as ProblemBody)
    : undefined;
  const code = codeOf(problem?.type);
  if (!problem || !code) {
    await logDaprAnswer(op.logger, appId, res);
    return unavailable(op, appId);
  }
  return problemError(code, problem.detail ?? '', {
    requestId: problem.requestId ?? op.caller.requestId,
    ...(problem.errors ? { errors: problem.errors } : {}),
  });
}

/**
 * Resolvers reach the services exactly as the REST proxy does: through the gateway's own
 * sidecar, on the public paths, with the client's bearer token, request id and trace, so
 * every rule (ownership, roles, validation, idempotency) stays the service's own. A service's
 * problem+json becomes a GraphQL error with the same code; anything else that fails
 * (Dapr, a timeout, an open circuit) is `upstream_unavailable`, as REST answers 503.
 */
export function createUpstream(
  deps: UpstreamDeps,
  caller: CallerRequest,
  signal: AbortSignal,
): Upstream {
  const op: Operation = { ...deps, caller, signal };
  return async <T>(appId: string, pathAndQuery: string, call: UpstreamCall = {}) => {
    const res = await send(op, appId, pathAndQuery, call);
    if (!res.ok) throw await refusalOf(op, appId, res);
    if (res.status === 204) return undefined as T;
    return (await res.json().catch((error: unknown) => {
      // The deadline can fall while the body is still arriving.
      if (signal.aborted) throw ended(op);
      throw error;
    })) as T;
  };
}

import {
  AppError,
  CircuitOpenError,
  type Logger,
  problemContentType,
  type Sidecar,
} from '@shop/platform';
import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

/** What a resolver's call to a service carries of the client's request. */
export type CallerRequest = {
  requestId: string;
  traceparent: string;
  /** The client's own `Bearer` credential, passed on untouched: each service verifies it. */
  authorization: string | undefined;
  clientAddress: string | undefined;
};

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
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
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
  const unavailable = (appId: string, retryAfterSeconds = 1) =>
    problemError('upstream_unavailable', `the ${appId} service is unavailable; try again shortly`, {
      requestId: caller.requestId,
      retryAfterSeconds,
    });
  const deadlinePassed = () =>
    problemError(
      'upstream_timeout',
      `the operation ran past its deadline of ${deps.config.GRAPHQL_DEADLINE_MS} ms; ask for less at once`,
      { requestId: caller.requestId, extensions: { limit: 'deadline' } },
    );
  // The operation's signal ends with a TimeoutError at its deadline, otherwise (an
  // AbortError) when the client went away, whom no answer reaches.
  const ended = () =>
    (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
      ? deadlinePassed()
      : problemError('upstream_unavailable', 'the client went away', {
          requestId: caller.requestId,
        });

  return async <T>(appId: string, pathAndQuery: string, call: UpstreamCall = {}) => {
    const headers = new Headers(call.headers);
    headers.set('accept', 'application/json');
    headers.set('x-request-id', caller.requestId);
    headers.set('traceparent', caller.traceparent);
    if (caller.authorization) headers.set('authorization', caller.authorization);
    if (caller.clientAddress) headers.set('x-forwarded-for', caller.clientAddress);
    if (call.body !== undefined) headers.set('content-type', 'application/json');

    // Past the deadline no new call starts: what is already answered is answered.
    if (signal.aborted) throw ended();
    let res: Response;
    try {
      res = await deps.sidecar.invoke(appId, pathAndQuery, {
        method: call.method ?? 'GET',
        headers,
        body: call.body === undefined ? null : JSON.stringify(call.body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(deps.config.UPSTREAM_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (error instanceof CircuitOpenError) throw unavailable(appId, error.retryAfterSeconds);
      if (signal.aborted) throw ended();
      deps.logger.warn('upstream call failed', { appId, error });
      throw unavailable(appId);
    }

    const contentType = res.headers.get('content-type') ?? '';
    if (res.ok) {
      if (res.status === 204) return undefined as T;
      return (await res.json().catch((error: unknown) => {
        // The deadline can fall while the body is still arriving.
        if (signal.aborted) throw ended();
        throw error;
      })) as T;
    }
    const problem = contentType.startsWith(problemContentType)
      ? ((await res.json().catch(() => ({}))) as ProblemBody)
      : undefined;
    const code = codeOf(problem?.type);
    if (!problem || !code) {
      // Not our services' problem+json: Dapr itself answered (the app is gone, no route).
      deps.logger.warn('upstream unavailable', {
        appId,
        status: res.status,
        detail: (await res.text().catch(() => '')).slice(0, 500),
      });
      throw unavailable(appId);
    }
    throw problemError(code, problem.detail ?? '', {
      requestId: problem.requestId ?? caller.requestId,
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
  };
}

import {
  AppError,
  CircuitOpenError,
  type Logger,
  problemContentType,
  type Sidecar,
} from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import { type Context, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { callerRequest, logDaprAnswer, withCaller } from './caller.ts';
import { checkForwardedHead } from './forwarded-head.ts';
import { routedUpstream } from './upstreams.ts';

export type ProxyDeps = {
  sidecar: Pick<Sidecar, 'invoke'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  logger: Logger;
  config: { UPSTREAM_TIMEOUT_MS: number; TRUSTED_PROXY_HOPS: number };
  /**
   * Spends the caller's rate-limit budget, after the route's token check so an
   * authenticated caller counts as its user; returns headers for the answer, throws 429.
   */
  rateLimit?: (c: Context) => Promise<Record<string, string>>;
};

// Only these travel between client and service; everything else (cookies, hop-by-hop,
// dapr-* headers a client might forge) stops at the gateway.
const requestHeaders = [
  'accept',
  'accept-language',
  'content-type',
  'idempotency-key',
  'if-match',
  'if-none-match',
  // An EventSource that reconnects names the last event it got.
  'last-event-id',
  'tracestate',
  'user-agent',
];
const responseHeaders = [
  'cache-control',
  'content-type',
  'etag',
  // POST /api/v1/orders and the cart's checkout mark a replayed answer so (IETF draft).
  'idempotent-replayed',
  'last-modified',
  'location',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'www-authenticate',
];

function pick(source: Headers, names: string[]): Headers {
  const picked = new Headers();
  for (const name of names) {
    const value = source.get(name);
    if (value !== null) picked.set(name, value);
  }
  return picked;
}

function unavailable(appId: string, retryAfterSeconds = 1, why = ''): AppError {
  return new AppError(
    'upstream_unavailable',
    `the ${appId} service is unavailable${why}; try again shortly`,
    {
      headers: { 'retry-after': String(retryAfterSeconds) },
    },
  );
}

function forwardedHeaders(c: Context, deps: ProxyDeps): Headers {
  const headers = pick(c.req.raw.headers, requestHeaders);
  // daprd 1.18 turns any non-2xx answer to a request accepting text/event-stream into its
  // own 500 ("no response received from stream"), so a stream refused with 429 or 400 would
  // reach the client as 503; the stream route answers an event stream without being asked.
  if (headers.get('accept')?.includes('text/event-stream')) headers.delete('accept');
  return withCaller(headers, callerRequest(c, deps.config.TRUSTED_PROXY_HOPS));
}

function clientWentAway(deps: ProxyDeps, appId: string): Response {
  // Nobody reads this answer; 499 (nginx's "client closed request") keeps it apart in the
  // access log and the metrics from anything the service did.
  deps.logger.info('client went away before the upstream answered', { appId });
  return new Response(null, { status: 499 });
}

/** The answer to a call that failed; the client going away is no fault of the service. */
function callFailed(
  c: Context,
  deps: ProxyDeps,
  appId: string,
  failure: { error: unknown; abortReason: unknown },
): Response {
  const { error, abortReason: reason } = failure;
  if (error instanceof CircuitOpenError) {
    throw unavailable(appId, error.retryAfterSeconds, ' (it failed repeatedly just now)');
  }
  // Our own deadline passed: the service may still be working on it, so unlike an
  // unreachable one (503) this is a 504, and the client cannot tell whether it took effect.
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    deps.logger.warn('upstream call timed out', {
      appId,
      timeoutMs: deps.config.UPSTREAM_TIMEOUT_MS,
    });
    throw new AppError(
      'upstream_timeout',
      `the ${appId} service did not answer within ${deps.config.UPSTREAM_TIMEOUT_MS} ms`,
    );
  }
  if (c.req.raw.signal.aborted) return clientWentAway(deps, appId);
  deps.logger.warn('upstream call failed', { appId, error });
  throw unavailable(appId);
}

async function forward(c: Context, deps: ProxyDeps, appId: string): Promise<Response> {
  const url = new URL(c.req.url);
  const headers = forwardedHeaders(c, deps);
  // Read before the call, so a client that stops sending (or sends too much) is not
  // taken for a service that failed.
  let body: ArrayBuffer | null = null;
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    try {
      body = await c.req.arrayBuffer();
    } catch (error) {
      if (c.req.raw.signal.aborted) return clientWentAway(deps, appId);
      throw error; // the body limit's refusal among others
    }
  }
  if (c.req.raw.signal.aborted) return clientWentAway(deps, appId);

  // The timeout bounds the whole exchange, except an event stream's body, which stays open
  // for as long as the client keeps it. Either ends early when the client goes away.
  const upstreamCall = new AbortController();
  const timeout = setTimeout(
    () => upstreamCall.abort(new DOMException('upstream timed out', 'TimeoutError')),
    deps.config.UPSTREAM_TIMEOUT_MS,
  );
  timeout.unref();
  c.req.raw.signal.addEventListener('abort', () => upstreamCall.abort(c.req.raw.signal.reason), {
    once: true,
  });

  let upstream: Response;
  try {
    upstream = await deps.sidecar.invoke(appId, `${url.pathname}${url.search}`, {
      method: c.req.method,
      headers,
      body,
      signal: upstreamCall.signal,
    });
  } catch (error) {
    clearTimeout(timeout);
    return callFailed(c, deps, appId, { error, abortReason: upstreamCall.signal.reason });
  }
  const contentType = upstream.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) clearTimeout(timeout);
  return passedOn(deps, appId, upstream);
}

/**
 * The service's answer as the client gets it. A service's own problem+json passes as it
 * is, 5xx included (a bug of that service, which it logs); a 5xx without one comes from
 * Dapr itself (the callee is down, its sidecar is gone): the client learns only that the
 * service is unavailable.
 */
async function passedOn(deps: ProxyDeps, appId: string, upstream: Response): Promise<Response> {
  const contentType = upstream.headers.get('content-type') ?? '';
  if (upstream.status >= 500 && !contentType.startsWith(problemContentType)) {
    await logDaprAnswer(deps.logger, appId, upstream);
    throw unavailable(appId);
  }
  return new Response(upstream.body, {
    status: upstream.status,
    headers: pick(upstream.headers, responseHeaders),
  });
}

async function limitedForward(c: Context, deps: ProxyDeps, appId: string): Promise<Response> {
  const limitHeaders = (await deps.rateLimit?.(c)) ?? {};
  let response: Response;
  try {
    response = await forward(c, deps, appId);
  } catch (error) {
    if (error instanceof AppError) Object.assign(error.headers, limitHeaders);
    throw error;
  }
  // Appended, so a service's own policy (the login throttle's) stays beside the gateway's.
  for (const [name, value] of Object.entries(limitHeaders)) response.headers.append(name, value);
  return response;
}

/**
 * Forwards each public path to its service through the gateway's own Dapr sidecar,
 * refusing a missing or bad access token first where the path's policy asks for one.
 */
export function proxyRoutes(deps: ProxyDeps) {
  const verify = authenticate(deps.verifier);
  const verifyIfPresent = createMiddleware(async (c, next) =>
    c.req.header('authorization') ? verify(c, next) : next(),
  );
  const policies = { none: undefined, optional: verifyIfPresent, required: verify };
  // One handler finds the upstream and applies its policy, so each request is verified at
  // most once, whichever routes overlap (a product's stock lies below the products).
  return new Hono().all('*', async (c) => {
    const upstream = routedUpstream(c);
    if (!upstream) {
      throw new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    }
    // Before the token is verified: a head the sidecars cannot carry costs only this check.
    checkForwardedHead(c, pick(c.req.raw.headers, [...requestHeaders, 'authorization']));
    const policy = policies[upstream.access];
    if (!policy) return limitedForward(c, deps, upstream.appId);
    let response: Response | undefined;
    await policy(c, async () => {
      response = await limitedForward(c, deps, upstream.appId);
    });
    return response ?? c.res;
  });
}

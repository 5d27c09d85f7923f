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
import { clientAddress } from './client-address.ts';
import { upstreamFor } from './upstreams.ts';

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

// Dapr decodes the method path once, resolves dot segments and hands the result to the
// app, whose server decodes it again; and it picks the target app from
// `Authorization: Basic dapr-app-id:...`. Either would let a public path reach another
// route (/events, /admin) or another app. So a path passes only if every segment, decoded
// once, is a plain name (no separator, no dot segment, no escape left to decode, nothing
// that ends a path), and only a Bearer credential is forwarded.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const unsafeInSegment = /[/\\%?#;\u0000-\u001f\u007f]/;

function isPlainPath(path: string): boolean {
  return path
    .split('/')
    .slice(1)
    .every((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return false;
      }
      return decoded !== '.' && decoded !== '..' && !unsafeInSegment.test(decoded);
    });
}

function bearerOnly(source: Headers, target: Headers): void {
  const authorization = source.get('authorization');
  if (authorization && /^bearer\s/i.test(authorization)) target.set('authorization', authorization);
}

async function forward(c: Context, deps: ProxyDeps, appId: string): Promise<Response> {
  const url = new URL(c.req.url);
  const headers = pick(c.req.raw.headers, requestHeaders);
  bearerOnly(c.req.raw.headers, headers);
  headers.set('x-request-id', c.get('requestId'));
  headers.set('traceparent', c.get('traceparent'));
  const address = clientAddress(c, deps.config.TRUSTED_PROXY_HOPS);
  if (address) headers.set('x-forwarded-for', address);
  const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';

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
      body: hasBody ? await c.req.arrayBuffer() : null,
      signal: upstreamCall.signal,
    });
  } catch (error) {
    clearTimeout(timeout);
    if (error instanceof CircuitOpenError) {
      throw unavailable(appId, error.retryAfterSeconds, ' (it failed repeatedly just now)');
    }
    // Our own deadline passed: the service may still be working on it, so unlike an
    // unreachable one (503) this is a 504, and the client cannot tell whether it took effect.
    if (
      upstreamCall.signal.reason instanceof DOMException &&
      upstreamCall.signal.reason.name === 'TimeoutError'
    ) {
      deps.logger.warn('upstream call timed out', {
        appId,
        timeoutMs: deps.config.UPSTREAM_TIMEOUT_MS,
      });
      throw new AppError(
        'upstream_timeout',
        `the ${appId} service did not answer within ${deps.config.UPSTREAM_TIMEOUT_MS} ms`,
      );
    }
    deps.logger.warn('upstream call failed', { appId, error });
    throw unavailable(appId);
  }

  // A 5xx that is not our services' problem+json comes from Dapr itself (the callee is
  // down, its sidecar is gone, a circuit is open): the client learns only that it is unavailable.
  const contentType = upstream.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) clearTimeout(timeout);
  if (upstream.status >= 500 && !contentType.startsWith(problemContentType)) {
    deps.logger.warn('upstream unavailable', {
      appId,
      status: upstream.status,
      detail: (await upstream.text()).slice(0, 500),
    });
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
    const upstream = upstreamFor(c.req.path);
    const rawPath = new URL(c.req.url).pathname;
    if (!upstream || !isPlainPath(rawPath)) {
      throw new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    }
    const policy = policies[upstream.access];
    if (!policy) return limitedForward(c, deps, upstream.appId);
    let response: Response | undefined;
    await policy(c, async () => {
      response = await limitedForward(c, deps, upstream.appId);
    });
    return response ?? c.res;
  });
}

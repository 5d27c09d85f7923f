import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

// What a browser client may send and read besides the CORS-safelisted headers.
const allowHeaders = [
  'authorization',
  'content-type',
  'idempotency-key',
  'if-match',
  'if-none-match',
  'last-event-id',
  'traceparent',
  'tracestate',
  'x-request-id',
];
const exposeHeaders = [
  'etag',
  'location',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'www-authenticate',
  'x-request-id',
  'x-trace-id',
];

/**
 * Hono's cors for the origins in `CORS_ORIGINS` only; another origin gets no
 * Access-Control-Allow-Origin, so its browser keeps the answer from it. Credentials are
 * bearer tokens, never cookies, so none are allowed.
 */
export function corsAllowList(origins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders,
    exposeHeaders,
    maxAge: 600,
  });
}

import type { MiddlewareHandler } from 'hono';
import { bodyLimits } from './body-limits.ts';
import { corsAllowList } from './cors.ts';
import { securityHeaders } from './security-headers.ts';

export { bodyLimitRules, defaultBodyLimitBytes } from './body-limits.ts';
export { docsPathPrefix } from './security-headers.ts';

/** The trace id beside the request id on every answer, so a client can quote both. */
const traceIdHeader: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('x-trace-id', c.get('traceId'));
};

/**
 * The gateway's public edges, run on every request before anything can refuse it: security
 * headers, the trace id, the CORS allow-list (which answers preflights itself), then the request body limit per route.
 *
 * @example
 * createServiceApp({ ..., edges: gatewayEdges({ CORS_ORIGINS: ['https://shop.example'] }) });
 */
export function gatewayEdges(config: { CORS_ORIGINS: readonly string[] }): MiddlewareHandler[] {
  return [securityHeaders(), traceIdHeader, corsAllowList(config.CORS_ORIGINS), bodyLimits()];
}

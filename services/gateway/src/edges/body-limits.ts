import { AppError } from '@shop/platform';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

const kib = 1024;

/** The largest request body per public path prefix; the first that covers a path applies. */
export const bodyLimitRules: ReadonlyArray<{ prefix: string; maxBytes: number }> = [
  { prefix: '/api/v1/auth', maxBytes: 16 * kib },
  { prefix: '/api/v1/orders', maxBytes: 16 * kib },
  { prefix: '/api/v1/products', maxBytes: 64 * kib },
];

/** What every other path may send. */
export const defaultBodyLimitBytes = 1024 * kib;

function covers(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function limitOf(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError('payload_too_large', `the request body is larger than ${maxSize} bytes`);
    },
  });
}

/**
 * Hono's bodyLimit per path (by Content-Length up front, or while a chunked body is read):
 * a larger body is refused with 413 problem+json before any service sees it.
 */
export function bodyLimits(
  rules = bodyLimitRules,
  defaultBytes = defaultBodyLimitBytes,
): MiddlewareHandler {
  const limited = rules.map((rule) => ({ ...rule, limit: limitOf(rule.maxBytes) }));
  const fallback = limitOf(defaultBytes);
  return (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const rule = limited.find(({ prefix }) => covers(prefix, c.req.path));
    return (rule?.limit ?? fallback)(c, next);
  };
}

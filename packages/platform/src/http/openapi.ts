import { z } from '@hono/zod-openapi';
import { type errorStatus, problemContentType, problemSchema } from '../errors.ts';

/** Where every service serves its own OpenAPI document; Dapr-only, so behind the app token. */
export const openApiDocumentPath = '/internal/openapi.json';

/** The security scheme every service document declares, under this name. */
export const bearerScheme = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'an access token from POST /api/v1/auth/login',
} as const;

/** A route's `security` when it needs an access token (`authenticate()` guards it). */
export const bearerSecurity = [{ bearer: [] }];

export type ProblemStatus = (typeof errorStatus)[keyof typeof errorStatus];

const descriptions: Record<ProblemStatus, string> = {
  400: 'the request is malformed or breaks its schema; `errors` names each invalid field',
  401: 'no valid access token, or credentials that do not match',
  403: 'the caller may not do this (wrong role, or an app not allowed to call here)',
  404: 'no such resource, or one that is not the caller’s',
  405: 'the path does not have this method; Allow lists those it has',
  409: 'the request conflicts with the current state',
  412: 'the If-Match precondition failed',
  413: 'the request body is too large',
  414: 'the request target (path and query) is too long',
  415: 'the request body has an unsupported media type',
  422: 'the request is well-formed but cannot be processed',
  429: 'too many requests; retry after the number of seconds in Retry-After',
  431: 'the request headers are too large',
  500: 'an unexpected error; quote the request id when reporting it',
  503: 'a dependency is unavailable; retry after the seconds in Retry-After',
  504: 'a dependency did not answer in time; the request may or may not have taken effect',
};

type ProblemResponse = {
  description: string;
  headers?: z.ZodObject;
  content: { [problemContentType]: { schema: typeof problemSchema } };
};

const seconds = z.string().regex(/^\d+$/);

const headers: Partial<Record<ProblemStatus, z.ZodObject>> = {
  401: z.object({
    'WWW-Authenticate': z.string().optional().openapi({
      description: 'the Bearer challenge (RFC 6750) when an access token was missing or bad',
    }),
  }),
  403: z.object({
    'WWW-Authenticate': z.string().optional().openapi({
      description: 'the Bearer challenge with `insufficient_scope` when a role was missing',
    }),
  }),
  429: z.object({
    'Retry-After': seconds.openapi({ description: 'seconds to wait' }),
    'RateLimit-Policy': z.string().openapi({ description: 'the quota (IETF RateLimit fields)' }),
    RateLimit: z.string().openapi({ description: 'what is left of the quota' }),
  }),
  503: z.object({
    'Retry-After': seconds.optional().openapi({ description: 'seconds to wait' }),
  }),
};

/**
 * The problem+json answers of a route, for its `responses`. Every route can also answer 500
 * (an unexpected error), so that one is always included.
 *
 * @example
 * const meRoute = createRoute({
 *   method: 'get', path: '/me', security: bearerSecurity,
 *   responses: { 200: { description: 'the account', content: { 'application/json': { schema: publicUser } } }, ...problemResponses(401, 403, 404) },
 * });
 */
export function problemResponses<const S extends ProblemStatus = never>(
  ...statuses: S[]
): Record<S | 500, ProblemResponse> {
  const responses: Partial<Record<ProblemStatus, ProblemResponse>> = {};
  for (const status of [...statuses, 500 as const]) {
    const declaredHeaders = headers[status];
    responses[status] = {
      description: descriptions[status],
      ...(declaredHeaders ? { headers: declaredHeaders } : {}),
      content: { [problemContentType]: { schema: problemSchema } },
    };
  }
  return responses as Record<S | 500, ProblemResponse>;
}

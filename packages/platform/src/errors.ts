import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';

/** The closed set of error codes; each maps to exactly one HTTP status. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  upstream_unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

const titles: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  validation_failed: 'Validation failed',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  precondition_failed: 'Precondition failed',
  payload_too_large: 'Payload too large',
  uri_too_long: 'URI too long',
  unsupported_media_type: 'Unsupported media type',
  unprocessable: 'Unprocessable request',
  rate_limited: 'Too many requests',
  headers_too_large: 'Request header fields too large',
  internal: 'Internal server error',
  upstream_unavailable: 'Service unavailable',
  upstream_timeout: 'Upstream timed out',
};

const fieldError = z.object({
  path: z.string().openapi({ example: 'email' }),
  message: z.string(),
});

export type FieldError = z.infer<typeof fieldError>;

/**
 * An expected failure, rendered as RFC 9457 problem+json by the app's one error handler.
 *
 * @example
 * throw new AppError('conflict', 'email is already registered');
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'AppError';
    this.code = code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  get status(): (typeof errorStatus)[ErrorCode] {
    return errorStatus[this.code];
  }
}

/** RFC 9457 problem details, as every error is answered; `errors` lists each invalid field. */
export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:shop:problem:validation-failed' }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    traceId: z
      .string()
      .optional()
      .openapi({ description: 'the W3C trace id of the request, to find its trace and logs' }),
    errors: z.array(fieldError).optional(),
  })
  .openapi('Problem');

export type Problem = z.infer<typeof problemSchema>;

export const problemContentType = 'application/problem+json';

function toProblem(
  error: AppError,
  ids: { requestId?: string | undefined; traceId?: string | undefined },
  instance?: string,
): Problem {
  const { requestId, traceId } = ids;
  return {
    type: `urn:shop:problem:${error.code.replaceAll('_', '-')}`,
    title: titles[error.code],
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(requestId ? { requestId } : {}),
    ...(traceId ? { traceId } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

/** Renders an AppError as a problem+json response carrying the request and trace ids. */
export function problemResponse(c: Context, error: AppError): Response {
  const ids = { requestId: c.get('requestId'), traceId: c.get('traceId') };
  const body = toProblem(error, ids, c.req.path);
  const headers = new Headers(error.headers);
  headers.set('content-type', problemContentType);
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

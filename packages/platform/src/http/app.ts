import { timingSafeEqual } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import {
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { Registry } from 'prom-client';
import type { ZodError } from 'zod';
import { requestContext } from '../context.ts';
import { isDatabaseUnavailable, isDataException } from '../db/data-errors.ts';
import { AppError, type ErrorCode, problemResponse } from '../errors.ts';
import {
  createEventConsumer,
  type DeadLetterStore,
  type EventConsumerDefinition,
} from '../events/consumer.ts';
import type { Logger } from '../logger.ts';
import { contextOf, traceIdOf, traceparentOf, tracer } from '../tracing/spans.ts';
import { createHttpMetrics } from './metrics.ts';
import { bearerScheme, openApiDocumentPath } from './openapi.ts';
import { requestIdFrom, traceFrom } from './request-ids.ts';
import { requireCaller } from './require-caller.ts';

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
    traceId: string;
    traceparent: string;
    /** The calling app's id as stamped by its Dapr sidecar (`dapr-caller-app-id`). */
    callerAppId: string | undefined;
  }
}

/** Named readiness checks; each resolves when its dependency answers and throws when it does not. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export type ServiceAppOptions = {
  service: string;
  logger: Logger;
  /** The token the sidecar presents on every call it makes to this app (`APP_API_TOKEN`). */
  appApiToken: string;
  /** Paths reachable without the app token: only the gateway's public API uses this. */
  isPublicPath?: (path: string) => boolean;
  /**
   * The Dapr apps allowed to call `/api/*`, e.g. `['gateway']`, so no other service reaches
   * the public API around the gateway's checks; unset, any app that holds the token may.
   */
  publicApiCallers?: readonly string[];
  /**
   * Apps allowed, besides `publicApiCallers`, one route of `/api/*` each, named by
   * `METHOD /exact/path`: e.g. `{ 'POST /api/v1/orders': ['cart'] }`.
   */
  publicRouteCallers?: Readonly<Record<string, readonly string[]>>;
  readiness?: ReadinessChecks;
  maxBodyBytes?: number;
  /**
   * Middleware run on every request right after its ids are set and before anything that
   * may refuse it (the app token, the body limit), so what it adds to the answer (security
   * headers, CORS) is on every answer, refusals included: the gateway's public edges.
   */
  edges?: readonly MiddlewareHandler[];
};

export type ServiceApp = OpenAPIHono & {
  /** Turns /readyz red while in-flight requests drain on shutdown. */
  markShuttingDown(): void;
  /**
   * Takes the events `definition` declares, delivered by Dapr's subscriptions, with the
   * dead-letter sink and its admin routes (see createEventConsumer), under this app's name.
   *
   * @example
   * app.consumeEvents({ definition: ordersEvents(deps), deadLetters: sqlDeadLetterStore(db) });
   */
  consumeEvents(options: {
    definition: EventConsumerDefinition;
    deadLetters: DeadLetterStore;
  }): void;
  /**
   * The registry the metrics listener serves (METRICS_PORT, see runService; never this
   * app's port), for a service's own counters beside the HTTP ones; metricsText reads it.
   */
  metricsRegistry: Registry;
};

const probePaths = new Set(['/healthz', '/readyz']);
const readinessTimeoutMs = 2_000;

function validationError(error: ZodError): AppError {
  return new AppError('validation_failed', 'the request does not match the schema', {
    errors: error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue.message,
    })),
  });
}

/**
 * A sub-app for one resource whose validation failures all become one 400 shape.
 *
 * @example
 * const routes = createRouter().openapi(registerRoute, async (c) => c.json(await register(c.req.valid('json')), 201));
 */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

const codeForStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'upstream_unavailable',
  504: 'upstream_timeout',
};

function tokensEqual(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/**
 * The request's server span, child of the caller's `traceparent` (Dapr forwards it); the
 * ids are the span's, or without a tracer the caller's (a new trace when it sent none).
 * The probes get no span: npm start's and the kubelet's polls are not traces.
 */
function serverSpan(c: Context, probe: boolean) {
  const header = c.req.header('traceparent');
  const parent = contextOf(header);
  const span = probe
    ? trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
    : tracer.startSpan(
        c.req.method,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path },
        },
        parent,
      );
  const traceId = traceIdOf(span);
  const traceparent = traceparentOf(span);
  const ids = traceId && traceparent ? { traceId, traceparent } : traceFrom(header);
  return { span, context: trace.setSpan(parent, span), ...ids };
}

/** Names the server span after the matched route and records the answer's status. */
function endServerSpan(span: Span, route: string, method: string, status: number): void {
  span.updateName(`${method} ${route}`);
  span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Sets the request's ids and server span, then logs and measures it once it is answered. */
function requestTracking(
  logger: Logger,
  metrics: ReturnType<typeof createHttpMetrics>,
): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    const probe = probePaths.has(c.req.path);
    const { span, context: spanContext, traceId, traceparent } = serverSpan(c, probe);
    c.set('requestId', requestId);
    c.set('traceId', traceId);
    c.set('traceparent', traceparent);
    c.set('callerAppId', c.req.header('dapr-caller-app-id'));
    const tracked = async () => {
      await next();
      c.res.headers.set('x-request-id', requestId);
      const seconds = (performance.now() - started) / 1000;
      const route = routePath(c, -1);
      metrics.observe({ method: c.req.method, route, status: c.res.status }, seconds);
      endServerSpan(span, route, c.req.method, c.res.status);
      if (!probe) {
        logger.info('request', {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          durationMs: Math.round(seconds * 1000 * 10) / 10,
          caller: c.get('callerAppId'),
        });
      }
    };
    await context.with(spanContext, () =>
      requestContext.run({ requestId, traceId, traceparent }, tracked),
    );
  };
}

/** Refuses every request but the probes and public paths that lacks the sidecar's app token. */
function appTokenCheck(options: ServiceAppOptions): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (probePaths.has(path) || options.isPublicPath?.(path)) return next();
    if (!tokensEqual(c.req.header('dapr-api-token'), options.appApiToken)) {
      throw new AppError('unauthenticated', 'this endpoint is reachable only through Dapr');
    }
    return next();
  };
}

/** Runs every readiness check at once; throws naming the dependencies that failed. */
async function checkReadiness(readiness: ReadinessChecks, logger: Logger): Promise<string[]> {
  const entries = Object.entries(readiness);
  const results = await Promise.allSettled(
    entries.map(([, check]) => withTimeout(check(), readinessTimeoutMs)),
  );
  const failed = entries
    .map(([name], i) => ({ name, result: results[i] }))
    .filter((entry) => entry.result?.status === 'rejected');
  if (failed.length > 0) {
    // The reasons go to the log; the answer, which the gateway serves publicly, names
    // only the dependencies.
    for (const { name, result } of failed) {
      logger.warn('not ready', {
        dependency: name,
        error: (result as PromiseRejectedResult).reason,
      });
    }
    throw new AppError(
      'upstream_unavailable',
      `not ready: ${failed.map((f) => f.name).join(', ')}`,
    );
  }
  return entries.map(([name]) => name);
}

/** Every failure as problem+json; the unknown is logged once and answered generically. */
function asProblem(error: Error, logger: Logger): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException && codeForStatus[error.status]) {
    return new AppError(codeForStatus[error.status] as ErrorCode, error.message);
  }
  if (isDataException(error)) {
    // A value reached the database that validation should have refused: worth fixing,
    // but the request's fault, so a 400 that no caller's breaker counts.
    logger.warn('the database refused a value of the request', { error });
    return new AppError('bad_request', 'a value in the request is malformed or out of range');
  }
  if (isDatabaseUnavailable(error)) {
    // Restarting or unreachable (a killed PostgreSQL comes back in seconds): worth a retry.
    logger.warn('a database is unavailable', { error });
    return new AppError('upstream_unavailable', 'a database is unavailable; retry shortly', {
      headers: { 'Retry-After': '2' },
    });
  }
  logger.error('unhandled error', { error });
  return new AppError(
    'internal',
    'an unexpected error occurred; quote the request id when reporting it',
  );
}

/**
 * The app every service starts from: request and trace ids, JSON access logs, metrics,
 * the Dapr app-token check, /healthz, /readyz, the OpenAPI 3.1 document of every
 * route declared with `createRoute` (at /internal/openapi.json, behind the app token), and
 * one error handler that renders every failure as problem+json.
 *
 * @example
 * const app = createServiceApp({ service: 'users', logger, appApiToken: config.APP_API_TOKEN, publicApiCallers: ['gateway'] });
 * app.route('/api/v1/auth', authRoutes(deps));
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { logger, readiness = {} } = options;
  const metrics = createHttpMetrics(options.service);
  let shuttingDown = false;

  const app = createRouter() as ServiceApp;
  app.markShuttingDown = () => {
    shuttingDown = true;
  };
  app.metricsRegistry = metrics.registry;
  app.consumeEvents = ({ definition, deadLetters }) => {
    app.route(
      '/',
      createEventConsumer({
        appId: options.service,
        logger,
        definition,
        deadLetters,
        registry: metrics.registry,
      }),
    );
  };

  app.use('*', requestTracking(logger, metrics));
  for (const edge of options.edges ?? []) app.use('*', edge);
  app.use('*', appTokenCheck(options));
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: () => {
        throw new AppError('payload_too_large', 'the request body is too large');
      },
    }),
  );
  if (options.publicApiCallers) {
    const callers = options.publicApiCallers;
    const routeCallers = options.publicRouteCallers ?? {};
    app.use('/api/*', (c, next) => {
      const alsoHere = routeCallers[`${c.req.method} ${c.req.path}`] ?? [];
      return requireCaller(...callers, ...alsoHere)(c, next);
    });
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', bearerScheme);
  app.doc31(openApiDocumentPath, {
    openapi: '3.1.0',
    info: { title: `shop ${options.service}`, version: 'v1' },
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (shuttingDown) throw new AppError('upstream_unavailable', 'shutting down');
    const checked = await checkReadiness(readiness, logger);
    return c.json({ status: 'ready', checks: Object.fromEntries(checked.map((n) => [n, 'ok'])) });
  });
  app.notFound((c) =>
    problemResponse(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((error, c) => problemResponse(c, asProblem(error, logger)));
  return app;
}

import {
  type Context,
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

// Only the API is loaded here: without a started SDK (see startTracing) every span is a
// no-op that merely carries its parent's ids, so untraced services pay next to nothing.

/** The platform's tracer; it records once startTracing has registered a provider. */
export const tracer = trace.getTracer('@shop/platform');

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** `base` with the remote parent a W3C traceparent names; `base` itself when there is none. */
export function contextOf(traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context {
  const match = traceparent ? traceparentPattern.exec(traceparent) : null;
  if (!match) return base;
  const [, traceId = '', spanId = '', flags = '00'] = match;
  const spanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(base, spanContext) : base;
}

/** The W3C traceparent that makes a callee's work a child of `span`; none for an invalid span. */
export function traceparentOf(span: Span | undefined): string | undefined {
  const ids = span?.spanContext();
  if (!ids || !isSpanContextValid(ids)) return undefined;
  return `00-${ids.traceId}-${ids.spanId}-0${ids.traceFlags & 1}`;
}

/** The trace id of `span` when it has a valid one. */
export function traceIdOf(span: Span | undefined): string | undefined {
  const ids = span?.spanContext();
  return ids && isSpanContextValid(ids) ? ids.traceId : undefined;
}

/**
 * Runs `work` in a new span (the active one inside it), child of `parent` (the active
 * context unless given); a throw marks the span failed and is rethrown; the span always ends.
 *
 * @example
 * await inSpan('outbox claim', { kind: SpanKind.INTERNAL }, () => claimBatch(db, relay));
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions & { parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent = context.active(), ...spanOptions } = options;
  const span = tracer.startSpan(name, spanOptions, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks `span` failed with `error`'s message. */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

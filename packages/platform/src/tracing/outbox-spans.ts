import {
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { contextOf, tracer } from './spans.ts';
import { inStoredTrace } from './stored-trace.ts';

type StoredEvent = { id: string; type: string; traceparent?: string | undefined };

function linkTo(traceparent: string | undefined): Link[] {
  const spanContext = trace.getSpanContext(contextOf(traceparent));
  return spanContext ? [{ context: spanContext }] : [];
}

/**
 * Claims a batch and, only when it claimed something, records an `outbox claim` span linked
 * to each event's trace: an empty poll every second is no trace. The claim is a trace of
 * its own; each publish links back to it.
 */
export async function claimInSpan<R extends { event: StoredEvent }>(
  claim: () => Promise<R[]>,
): Promise<{ rows: R[]; claimSpan: SpanContext | undefined }> {
  const startTime = new Date();
  const rows = await claim();
  if (rows.length === 0) return { rows, claimSpan: undefined };
  const span = tracer.startSpan(
    'outbox claim',
    {
      kind: SpanKind.INTERNAL,
      startTime,
      links: rows.flatMap((row) => linkTo(row.event.traceparent)),
      attributes: { 'messaging.batch.message_count': rows.length },
    },
    ROOT_CONTEXT,
  );
  span.end();
  return { rows, claimSpan: span.spanContext() };
}

/**
 * Publishes a stored event in an `outbox publish` span whose parent is the trace the event
 * was written in (its stored traceparent), so the publish, and every consumer after it,
 * continues the request that caused it however much later the relay sends it.
 */
export function publishInSpan(
  event: StoredEvent,
  claimSpan: SpanContext | undefined,
  publish: () => Promise<void>,
): Promise<void> {
  return inStoredTrace(
    `outbox publish ${event.type}`,
    event.traceparent,
    { 'messaging.message.id': event.id, 'messaging.destination.name': event.type },
    publish,
    claimSpan && isSpanContextValid(claimSpan) ? [{ context: claimSpan }] : [],
  );
}

import { context, type Link, SpanKind, trace } from '@opentelemetry/api';
import { requestContext } from '../context.ts';
import { contextOf, inSpan, traceIdOf, traceparentOf } from './spans.ts';

type Delivered = { id: string; type: string; traceparent?: string | undefined };

/**
 * Handles one delivered event in a consumer span whose parent is the span that published
 * it (the CloudEvent's traceparent), never a new root: without one, the delivery's own
 * request is the parent. The delivery request is linked when it is another trace. Inside,
 * the request context names this span, so events the handler writes continue the trace.
 */
export function handleInSpan<T extends string>(
  event: Delivered,
  handle: () => Promise<T>,
): Promise<T> {
  const delivery = trace.getActiveSpan()?.spanContext();
  const parent = contextOf(event.traceparent, context.active());
  const parentTrace = trace.getSpanContext(parent)?.traceId;
  const links: Link[] = delivery && parentTrace !== delivery.traceId ? [{ context: delivery }] : [];
  const attributes = {
    'messaging.operation.type': 'process',
    'messaging.destination.name': event.type,
    'messaging.message.id': event.id,
  };
  return inSpan(
    `consume ${event.type}`,
    { kind: SpanKind.CONSUMER, parent, links, attributes },
    async (span) => {
      const outer = requestContext.getStore();
      const traceId = traceIdOf(span);
      const traceparent = traceparentOf(span);
      if (!traceId || !traceparent) return handle();
      const ids = { requestId: outer?.requestId ?? event.id, traceId, traceparent };
      const outcome = await requestContext.run(ids, handle);
      span.setAttribute('shop.delivery', outcome);
      return outcome;
    },
  );
}

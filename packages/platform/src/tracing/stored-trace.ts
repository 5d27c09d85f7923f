import { type Attributes, type Link, SpanKind } from '@opentelemetry/api';
import { requestContext } from '../context.ts';
import { contextOf, inSpan } from './spans.ts';

/**
 * The traceparent of the request or delivery being handled, to store beside work that is
 * done later (an outbox row, a queued mail), so that work continues this trace.
 */
export function currentTraceparent(): string | undefined {
  return requestContext.getStore()?.traceparent;
}

/**
 * Runs work that was stored earlier in a span whose parent is the trace it was stored in
 * (`traceparent`), however much later it runs: a relay's publish, a queued mail's send.
 * Without a stored traceparent the span is a root of its own.
 *
 * @example
 * await inStoredTrace('email send', mail.traceparent, { 'email.type': mail.type }, () => send(mail));
 */
export function inStoredTrace<T>(
  name: string,
  traceparent: string | undefined,
  attributes: Attributes,
  work: () => Promise<T>,
  links: Link[] = [],
): Promise<T> {
  return inSpan(
    name,
    { kind: SpanKind.INTERNAL, parent: contextOf(traceparent), attributes, links },
    work,
  );
}

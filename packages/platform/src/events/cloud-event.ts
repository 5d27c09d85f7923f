import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { requestContext } from '../context.ts';
import {
  dataSchemaUri,
  type EventData,
  type EventType,
  eventSchemas,
  isEventType,
} from './schemas.ts';

/** A CloudEvents 1.0 envelope as published through Dapr. */
export type ShopEvent<T extends EventType = EventType> = {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  data: EventData<T>;
  traceparent?: string;
};

/**
 * Builds a validated CloudEvent; the id is stable when given, so a relay that retries
 * publishes the same event, not a new one. Built during a request, it carries that
 * request's trace (the CloudEvents `traceparent` extension), so the consumer's work joins
 * the same trace even when an outbox publishes it later.
 *
 * @example
 * const event = buildEvent('user.registered', { userId, email, name, registeredAt }, { source: 'users' });
 */
export function buildEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  options: { source: string; id?: string; time?: Date },
): ShopEvent<T> {
  const traceparent = requestContext.getStore()?.traceparent;
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataschema: dataSchemaUri(type),
    data: eventSchemas[type].data.parse(data) as EventData<T>,
    ...(traceparent ? { traceparent } : {}),
  };
}

const envelope = z.object({
  id: z.string().min(1).max(200),
  type: z.string(),
  source: z.string(),
  data: z.unknown(),
  time: z.string().optional(),
  traceparent: z.string().optional(),
});

export type ParsedEvent =
  | { ok: true; event: ShopEvent }
  | { ok: false; reason: string; id?: string | undefined; type?: string | undefined };

/** Validates a received CloudEvent, envelope and payload, against the schema of its type. */
export function parseEvent(body: unknown): ParsedEvent {
  const outer = envelope.safeParse(body);
  if (!outer.success) return { ok: false, reason: `not a CloudEvent: ${outer.error.message}` };
  const { id, type } = outer.data;
  if (!isEventType(type)) return { ok: false, reason: `unknown event type ${type}`, id, type };
  const data = eventSchemas[type].data.safeParse(outer.data.data);
  if (!data.success) {
    return { ok: false, reason: `invalid ${type} payload: ${data.error.message}`, id, type };
  }
  return {
    ok: true,
    event: {
      specversion: '1.0',
      id,
      source: outer.data.source,
      type,
      time: outer.data.time ?? new Date().toISOString(),
      datacontenttype: 'application/json',
      dataschema: dataSchemaUri(type),
      data: data.data,
      ...(outer.data.traceparent ? { traceparent: outer.data.traceparent } : {}),
    },
  };
}

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { requestContext } from '../context.ts';
import {
  type CurrentVersion,
  type DataSchemaUri,
  dataSchemaUri,
  type EventCatalog,
  type EventData,
  type EventType,
  type EventVersion,
  eventCatalog,
  type ShopCatalog,
  versionNamedBy,
} from './schemas.ts';

/** One version of one event type: a CloudEvents 1.0 envelope as published through Dapr. */
export type VersionedEvent<
  T extends EventType<C>,
  V extends EventVersion<T, C>,
  C extends EventCatalog = ShopCatalog,
> = {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  time: string;
  datacontenttype: 'application/json';
  dataschema: DataSchemaUri<T, V>;
  data: EventData<T, V, C>;
  traceparent?: string;
};

/** Any version of any event in the catalog: what an outbox stores and a relay publishes. */
export type ShopEvent<C extends EventCatalog = ShopCatalog> = {
  [T in EventType<C>]: { [V in EventVersion<T, C>]: VersionedEvent<T, V, C> }[EventVersion<T, C>];
}[EventType<C>];

/**
 * An event as a consumer receives it: one of the versions it accepts, with that version
 * (named by its `dataschema`) beside it, so `event.version` narrows `event.data`.
 */
export type ReceivedEvent<
  T extends EventType<C>,
  V extends EventVersion<T, C>,
  C extends EventCatalog = ShopCatalog,
> = { [Version in V]: VersionedEvent<T, Version, C> & { version: Version } }[V];

/**
 * Builds a validated CloudEvent of the type's current version; the id is stable when
 * given, so a relay that retries publishes the same event, not a new one. Built during a
 * request, it carries that request's trace (the CloudEvents `traceparent` extension), so
 * the consumer's work joins the same trace even when an outbox publishes it later.
 * `catalog` is the shop's unless a test brings its own.
 *
 * @example
 * const event = buildEvent('user.registered', { userId, email, name, registeredAt }, { source: 'users' });
 * event.dataschema; // 'urn:shop:events:user.registered:v1'
 */
export function buildEvent<T extends EventType<C>, C extends EventCatalog = ShopCatalog>(
  type: T,
  data: EventData<T, CurrentVersion<T, C>, C>,
  options: { source: string; id?: string; time?: Date; catalog?: C },
): VersionedEvent<T, CurrentVersion<T, C>, C> {
  const catalog: EventCatalog = options.catalog ?? eventCatalog;
  const entry = catalog[type];
  const schema = entry?.versions[entry.current];
  if (!entry || !schema) throw new Error(`no schema for the current version of ${type}`);
  const traceparent = requestContext.getStore()?.traceparent;
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataschema: dataSchemaUri(type, entry.current as CurrentVersion<T, C>),
    // The schema looked up at run time is this version's, so its output is this data.
    data: schema.parse(data) as EventData<T, CurrentVersion<T, C>, C>,
    ...(traceparent ? { traceparent } : {}),
  };
}

// `time` and `dataschema` are required: an event is taken as it was sent, never repaired.
const envelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  type: z.string(),
  source: z.string(),
  time: z.iso.datetime({ offset: true }),
  dataschema: z.string(),
  data: z.unknown(),
  traceparent: z.string().optional(),
});

/** Any version of any event in the catalog, as received. */
type AnyReceivedEvent<C extends EventCatalog> = {
  [T in EventType<C>]: ReceivedEvent<T, EventVersion<T, C>, C>;
}[EventType<C>];

export type ParsedEvent<C extends EventCatalog = ShopCatalog> =
  | { ok: true; event: AnyReceivedEvent<C> }
  | { ok: false; reason: string; id?: string | undefined; type?: string | undefined };

/**
 * Validates a received CloudEvent, envelope and payload, against the schema of the version
 * its `dataschema` names. `time` and `dataschema` are kept as sent; an event without them,
 * or naming a version the catalog lacks, is invalid.
 *
 * @example
 * const parsed = parseEvent(await request.json());
 * if (parsed.ok && parsed.event.type === 'user.registered') parsed.event.data.email;
 */
export function parseEvent<C extends EventCatalog = ShopCatalog>(
  body: unknown,
  catalog?: C,
): ParsedEvent<C> {
  const events: EventCatalog = catalog ?? eventCatalog;
  const outer = envelope.safeParse(body);
  if (!outer.success) {
    const { id, type } = (typeof body === 'object' && body ? body : {}) as Record<string, unknown>;
    return {
      ok: false,
      reason: `not a valid CloudEvent: ${z.prettifyError(outer.error)}`,
      id: typeof id === 'string' ? id : undefined,
      type: typeof type === 'string' ? type : undefined,
    };
  }
  const { id, type, dataschema } = outer.data;
  if (!Object.hasOwn(events, type))
    return { ok: false, reason: `unknown event type ${type}`, id, type };
  const named = versionNamedBy(events, dataschema);
  if (!named || named.type !== type) {
    return { ok: false, reason: `dataschema ${dataschema} names no version of ${type}`, id, type };
  }
  const schema = events[type]?.versions[named.version];
  const data = schema?.safeParse(outer.data.data);
  if (!data?.success) {
    const detail = data ? z.prettifyError(data.error) : 'no schema';
    return { ok: false, reason: `invalid ${dataschema} payload: ${detail}`, id, type };
  }
  return {
    ok: true,
    // Checked above against the catalog: the type, the version its dataschema names, and
    // that version's payload.
    event: {
      specversion: '1.0',
      id,
      source: outer.data.source,
      type,
      time: outer.data.time,
      datacontenttype: 'application/json',
      dataschema,
      data: data.data,
      version: named.version,
      ...(outer.data.traceparent ? { traceparent: outer.data.traceparent } : {}),
    } as AnyReceivedEvent<C>,
  };
}

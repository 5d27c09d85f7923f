import { type Attributes, SpanKind } from '@opentelemetry/api';
import { inSpan, traceparentOf } from '../tracing/spans.ts';
import type { CalleeBreakers } from './breaker.ts';
import { type SidecarAnswer, sidecarInvoke, sidecarRequest } from './sidecar-request.ts';

// The sidecar's HTTP API as plain functions of where it is and the token it wants;
// createSidecar binds them to one sidecar.

const pubsubName = 'pubsub';

// Longer than the publish attempts of components/common/resiliency.yaml take together
// (3 attempts of at most 5 s plus backoff), so the relay never gives up on a publish Dapr
// is still retrying, which would send the event twice.
const publishTimeoutMs = 20_000;
// Long enough for a healthy local store, short enough that a dead one barely delays a read.
const defaultStateTimeoutMs = 2_000;
// A call whose caller set no deadline of its own still ends: a callee that hangs must not
// hold its caller's request, or its connection, forever.
const defaultInvokeTimeoutMs = 10_000;
// A binding reaches outside (an SMTP server's greeting and TLS can take seconds).
const defaultBindingTimeoutMs = 15_000;

export type SidecarConfig = {
  DAPR_HOST: string;
  DAPR_HTTP_PORT: number;
  DAPR_API_TOKEN?: string | undefined;
};

/** One entry of a Dapr state store as read: its value and the ETag a conditional write names. */
export type StateEntry = { value: unknown; etag: string | undefined };

export type SaveStateOptions = {
  /** Write only over this ETag; a mismatch answers 'conflict'. */
  etag?: string | undefined;
  /**
   * `first-write`: without an `etag`, the write only creates the key (for stores that keep
   * the mode per entry, like Redis, only when the entry there was written first-write too);
   * `last-write` (Dapr's default) overwrites.
   */
  concurrency?: 'first-write' | 'last-write';
  /** Dapr's `ttlInSeconds` metadata: the store drops the entry after this long. */
  ttlSeconds?: number;
  /** Gives up (throws) after this long; a cache must not hold a request up. */
  timeoutMs?: number;
};

/** Where one sidecar's HTTP API answers, and the header that authenticates us to it. */
export type DaprHttp = { baseUrl: string; tokenHeader: Record<string, string> };

export function daprHttpOf(config: SidecarConfig): DaprHttp {
  return {
    baseUrl: `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}`,
    tokenHeader: config.DAPR_API_TOKEN ? { 'dapr-api-token': config.DAPR_API_TOKEN } : {},
  };
}

/**
 * Runs one call to the sidecar in a client span, handing `work` that span's traceparent
 * for the request, so daprd's own spans and the callee's become its children. Without a
 * tracer there is none, and a caller's own traceparent header is left as it is.
 */
function daprCall<T>(
  name: string,
  attributes: Attributes,
  work: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  const kind = name.startsWith('publish') ? SpanKind.PRODUCER : SpanKind.CLIENT;
  return inSpan(`dapr ${name}`, { kind, attributes }, (span) => work(traceparentOf(span)));
}

const withTraceparent = (headers: Record<string, string>, traceparent: string | undefined) =>
  traceparent ? { ...headers, traceparent } : headers;

export async function checkReady(dapr: DaprHttp): Promise<void> {
  const res = await sidecarRequest(`${dapr.baseUrl}/v1.0/healthz/outbound`, {
    headers: {},
    timeoutMs: 1_000,
  });
  if (!res.ok) throw new Error(`sidecar answered ${res.status}`);
}

/**
 * Publishes CloudEvents to one topic of `pubsub` in one request (Dapr's bulk publish API,
 * alpha), in one producer span. Throws unless every entry was accepted.
 */
export function publishBulkEvents(
  dapr: DaprHttp,
  pubsub: string,
  topic: string,
  events: ReadonlyArray<{ type: string; id: string }>,
): Promise<void> {
  const attributes = {
    'messaging.destination.name': topic,
    'messaging.batch.message_count': events.length,
  };
  return daprCall(`publish ${topic}`, attributes, async (traceparent) => {
    const entries = events.map((event, index) => ({
      entryId: String(index),
      contentType: 'application/cloudevents+json',
      event: traceparent ? { ...event, traceparent } : event,
    }));
    const url = `${dapr.baseUrl}/v1.0-alpha1/publish/bulk/${pubsub}/${topic}`;
    const res = await sidecarRequest(url, {
      method: 'POST',
      headers: withTraceparent(
        { ...dapr.tokenHeader, 'content-type': 'application/json' },
        traceparent,
      ),
      body: JSON.stringify(entries),
      timeoutMs: publishTimeoutMs,
    });
    if (!res.ok) throw new Error(`bulk publish to ${topic} failed: ${res.status} ${res.text}`);
  });
}

/**
 * Publishes a CloudEvent in a producer span; the event sent carries that span's
 * traceparent (else its own), so each consumer's span is a child of this publish.
 */
export function publishEvent(
  dapr: DaprHttp,
  event: { type: string; id: string; traceparent?: string },
): Promise<void> {
  const attributes = { 'messaging.destination.name': event.type, 'messaging.message.id': event.id };
  return daprCall(`publish ${event.type}`, attributes, async (spanTraceparent) => {
    const traceparent = spanTraceparent ?? event.traceparent;
    const res = await sidecarRequest(`${dapr.baseUrl}/v1.0/publish/${pubsubName}/${event.type}`, {
      method: 'POST',
      headers: withTraceparent(
        { ...dapr.tokenHeader, 'content-type': 'application/cloudevents+json' },
        traceparent,
      ),
      body: JSON.stringify(traceparent ? { ...event, traceparent } : event),
      timeoutMs: publishTimeoutMs,
    });
    if (!res.ok) {
      throw new Error(`publish of ${event.type} ${event.id} failed: ${res.status} ${res.text}`);
    }
  });
}

export function invokeApp(
  dapr: DaprHttp,
  breakers: CalleeBreakers,
  appId: string,
  pathAndQuery: string,
  init: RequestInit,
): Promise<Response> {
  const method = init.method ?? 'GET';
  const attributes = { 'rpc.service': appId, 'http.request.method': method };
  return daprCall(`invoke ${appId} ${method}`, attributes, async (traceparent) => {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(dapr.tokenHeader)) headers.set(name, value);
    if (traceparent) headers.set('traceparent', traceparent);
    const signal = init.signal ?? AbortSignal.timeout(defaultInvokeTimeoutMs);
    const url = `${dapr.baseUrl}/v1.0/invoke/${appId}/method${pathAndQuery}`;
    return breakers.call(appId, () => sidecarInvoke(url, { ...init, headers, signal }), signal);
  });
}

const stateUrl = (dapr: DaprHttp, store: string, key?: string) =>
  `${dapr.baseUrl}/v1.0/state/${encodeURIComponent(store)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

const stateFailure = (what: string, res: SidecarAnswer) =>
  new Error(`state ${what} failed: ${res.status} ${res.text}`);

/** A conditional write's answer: `done`, 'conflict' on Dapr's 409 (ETag mismatch), else throws. */
function writeOutcome<T extends string>(res: SidecarAnswer, done: T, what: string): T | 'conflict' {
  if (res.ok) return done;
  if (res.status === 409) return 'conflict';
  throw stateFailure(what, res);
}

export async function getState(
  dapr: DaprHttp,
  store: string,
  key: string,
  options: { timeoutMs?: number } = {},
): Promise<StateEntry | undefined> {
  return daprCall(`state get ${store}`, { 'db.namespace': store }, async (traceparent) => {
    const res = await sidecarRequest(stateUrl(dapr, store, key), {
      headers: withTraceparent(dapr.tokenHeader, traceparent),
      timeoutMs: options.timeoutMs ?? defaultStateTimeoutMs,
    });
    if (res.status === 204 || res.status === 404) return undefined;
    if (!res.ok) throw stateFailure(`get of ${key}`, res);
    if (res.text === '') return undefined;
    return { value: JSON.parse(res.text), etag: res.header('etag') };
  });
}

export async function saveState(
  dapr: DaprHttp,
  store: string,
  key: string,
  value: unknown,
  options: SaveStateOptions = {},
): Promise<'saved' | 'conflict'> {
  const entry = {
    key,
    value,
    ...(options.etag ? { etag: options.etag } : {}),
    ...(options.concurrency ? { options: { concurrency: options.concurrency } } : {}),
    ...(options.ttlSeconds ? { metadata: { ttlInSeconds: String(options.ttlSeconds) } } : {}),
  };
  return daprCall(`state save ${store}`, { 'db.namespace': store }, async (traceparent) => {
    const res = await sidecarRequest(stateUrl(dapr, store), {
      method: 'POST',
      headers: withTraceparent(
        { ...dapr.tokenHeader, 'content-type': 'application/json' },
        traceparent,
      ),
      body: JSON.stringify([entry]),
      timeoutMs: options.timeoutMs ?? defaultStateTimeoutMs,
    });
    return writeOutcome(res, 'saved', `save of ${key}`);
  });
}

export async function deleteState(
  dapr: DaprHttp,
  store: string,
  key: string,
  options: { etag?: string; timeoutMs?: number } = {},
): Promise<'deleted' | 'conflict'> {
  return daprCall(`state delete ${store}`, { 'db.namespace': store }, async (traceparent) => {
    const res = await sidecarRequest(stateUrl(dapr, store, key), {
      method: 'DELETE',
      headers: withTraceparent(
        { ...dapr.tokenHeader, ...(options.etag ? { 'if-match': options.etag } : {}) },
        traceparent,
      ),
      timeoutMs: options.timeoutMs ?? defaultStateTimeoutMs,
    });
    return writeOutcome(res, 'deleted', `delete of ${key}`);
  });
}

export async function invokeBinding(
  dapr: DaprHttp,
  call: {
    name: string;
    operation: string;
    data: unknown;
    metadata?: Record<string, string> | undefined;
    timeoutMs?: number | undefined;
  },
): Promise<string> {
  const { name, operation, data, metadata = {} } = call;
  return daprCall(`binding ${name} ${operation}`, {}, async (traceparent) => {
    const res = await sidecarRequest(`${dapr.baseUrl}/v1.0/bindings/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: withTraceparent(
        { ...dapr.tokenHeader, 'content-type': 'application/json' },
        traceparent,
      ),
      body: JSON.stringify({ operation, data, metadata }),
      timeoutMs: call.timeoutMs ?? defaultBindingTimeoutMs,
    });
    if (!res.ok) throw new Error(`binding ${name} ${operation} failed: ${res.status} ${res.text}`);
    return res.text;
  });
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { eventFixture, recordingLogger } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestContext } from '../context.ts';
import { daprHttpOf, publishEvent } from '../dapr/dapr-http.ts';
import { enqueueEvent } from '../db/outbox.ts';
import { startOutboxRelay } from '../db/outbox-relay.ts';
import { useWidgetsDatabase } from '../db/testdata/backends.ts';
import type { Problem } from '../errors.ts';
import { buildEvent, type ShopEvent } from '../events/cloud-event.ts';
import { createMemoryDeadLetterStore, defineConsumer } from '../events/consumer.ts';
import { createRouter, createServiceApp } from '../http/app.ts';
import { traceService } from './index.ts';
import { startTracing, type Tracing } from './sdk.ts';
import { tracer } from './spans.ts';
import { currentTraceparent, inStoredTrace } from './stored-trace.ts';

const appApiToken = 'test-app-token-0123456789';
const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const callerSpan = '00f067aa0ba902b7';
const callerTraceparent = `00-${callerTrace}-${callerSpan}-01`;

/** What a sidecar's publish endpoint received: the traceparent header and the body. */
type Received = { traceparent: string | undefined; body: Record<string, unknown> };

/** Stands where daprd answers publishes: records each request and accepts it (204). */
async function startSidecarSink(): Promise<{ server: Server; received: Received[]; port: number }> {
  const received: Received[] = [];
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  };
  const server = createServer(async (req, res) => {
    received.push({
      traceparent: req.headers.traceparent as string | undefined,
      body: await readBody(req),
    });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, port: (server.address() as AddressInfo).port };
}

const idsOf = (span: ReadableSpan) => span.spanContext();
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const traceparentOf = (span: ReadableSpan) => `00-${idsOf(span).traceId}-${idsOf(span).spanId}-01`;

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('starts no SDK: nothing is closed on shutdown and no span records', () => {
    const closed: string[] = [];
    const lifecycle = {
      closes<T>(name: string, resource: T): T {
        closed.push(name);
        return resource;
      },
    };
    traceService('orders', lifecycle, recordingLogger(), {});
    expect(startTracing({ service: 'orders', env: {} })).toBeUndefined();
    expect(closed).toEqual([]);
    const span = tracer.startSpan('anything');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('still answers with the caller’s trace id, in problem+json and in the logs', async () => {
    const logger = recordingLogger();
    const app = createServiceApp({ service: 'test', logger, appApiToken });
    const res = await app.request('/nowhere', {
      headers: { 'dapr-api-token': appApiToken, traceparent: callerTraceparent },
    });
    expect(((await res.json()) as Problem).traceId).toBe(callerTrace);
    expect(logger.lines.find((line) => line.msg === 'request')).toMatchObject({
      traceId: callerTrace,
    });
  });
});

describe('with tracing started', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | undefined;
  let sink: Awaited<ReturnType<typeof startSidecarSink>>;
  const database = useWidgetsDatabase('pglite');
  const spans = () => exporter.getFinishedSpans();
  const named = (name: string) => spans().filter((span) => span.name === name);

  beforeAll(async () => {
    tracing = startTracing({
      service: 'test',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
      exporter,
    });
    sink = await startSidecarSink();
  });
  afterAll(async () => {
    await tracing?.close();
    await new Promise((resolve) => sink.server.close(resolve));
  });

  function appWithRoutes(logger = recordingLogger()) {
    const app = createServiceApp({ service: 'test', logger, appApiToken });
    app.route(
      '/',
      createRouter().get('/things/:id', (c) => {
        logger.info('looking', { id: c.req.param('id') });
        return c.json({ id: c.req.param('id') });
      }),
    );
    return { app, logger };
  }

  it('makes a server span per request, named by its route, child of the caller’s traceparent', async () => {
    exporter.reset();
    const { app, logger } = appWithRoutes();
    const res = await app.request('/things/7', {
      headers: { 'dapr-api-token': appApiToken, traceparent: callerTraceparent },
    });
    expect(res.status).toBe(200);
    const [server] = named('GET /things/:id');
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(idsOf(server as ReadableSpan).traceId).toBe(callerTrace);
    expect(parentOf(server as ReadableSpan)).toBe(callerSpan);
    expect(server?.attributes['http.response.status_code']).toBe(200);
    expect(server?.resource.attributes['service.name']).toBe('test');
    const looking = logger.lines.find((line) => line.msg === 'looking');
    expect(looking?.traceId).toBe(callerTrace);
  });

  it('names the request’s own trace in problem+json and every log line, new or joined', async () => {
    exporter.reset();
    const { app, logger } = appWithRoutes();
    const res = await app.request('/nowhere', { headers: { 'dapr-api-token': appApiToken } });
    const problem = (await res.json()) as Problem;
    const server = spans().find((span) => span.kind === SpanKind.SERVER) as ReadableSpan;
    expect(problem.traceId).toBe(idsOf(server).traceId);
    expect(parentOf(server)).toBeUndefined();
    expect(logger.lines.find((line) => line.msg === 'request')?.traceId).toBe(problem.traceId);
  });

  it('records each SQL query made inside a span as its child, with no transaction brackets', async () => {
    exporter.reset();
    const { db } = database();
    await db.selectFrom('widgets').selectAll().execute();
    await trace.getTracer('test').startActiveSpan('parent', async (span) => {
      await db
        .transaction()
        .execute((trx) => trx.insertInto('widgets').values({ id: 'w1', name: 'one' }).execute());
      await expect(
        db.insertInto('widgets').values({ id: 'w1', name: 'again' }).execute(),
      ).rejects.toThrow();
      span.end();
    });
    const [parent] = named('parent');
    const queries = spans().filter((span) => span.name !== 'parent');
    expect(queries.map((span) => span.name)).toEqual(['INSERT pglite', 'INSERT pglite']);
    for (const query of queries) {
      expect(query.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
      expect(query.kind).toBe(SpanKind.CLIENT);
      expect(query.attributes['db.query.text']).toMatch(/^insert into "widgets"/);
      expect(query.endTime[0] * 1e3 + query.endTime[1] / 1e6).toBeGreaterThanOrEqual(
        query.startTime[0] * 1e3 + query.startTime[1] / 1e6,
      );
    }
    expect(queries.map((span) => span.status.code)).toEqual([0, 2]);
  });

  it('gives the probes no span', async () => {
    exporter.reset();
    const { app } = appWithRoutes();
    expect((await app.request('/healthz')).status).toBe(200);
    expect(spans()).toEqual([]);
  });

  it('sends each Dapr call in a client span whose traceparent daprd receives', async () => {
    exporter.reset();
    sink.received.length = 0;
    const dapr = daprHttpOf({ DAPR_HOST: '127.0.0.1', DAPR_HTTP_PORT: sink.port });
    const event = buildEvent('user.registered', eventFixture('user.registered').data, {
      source: 'test',
    });
    await tracer.startActiveSpan('caller', async (caller) => {
      await publishEvent(dapr, event);
      caller.end();
    });
    const [publish] = named('dapr publish user.registered');
    const [caller] = named('caller');
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(publish as ReadableSpan)).toBe(idsOf(caller as ReadableSpan).spanId);
    expect(sink.received[0]?.traceparent).toBe(traceparentOf(publish as ReadableSpan));
    expect(sink.received[0]?.body.traceparent).toBe(traceparentOf(publish as ReadableSpan));
  });

  it('publishes an outbox event in the trace of the request that wrote it, and its consumer joins that trace', async () => {
    exporter.reset();
    sink.received.length = 0;
    const { db } = database();
    // Written during a request: the event stores that request's traceparent.
    const event = requestContext.run(
      { requestId: 'r-1', traceId: callerTrace, traceparent: callerTraceparent },
      () => buildEvent('user.registered', eventFixture('user.registered').data, { source: 'test' }),
    );
    expect(event.traceparent).toBe(callerTraceparent);
    await db.transaction().execute((trx) => enqueueEvent(trx, event));
    const dapr = daprHttpOf({ DAPR_HOST: '127.0.0.1', DAPR_HTTP_PORT: sink.port });
    const relay = startOutboxRelay({
      db,
      logger: recordingLogger(),
      publish: (e: ShopEvent) => publishEvent(dapr, e),
    });
    await relay.drain();
    await relay.stop();

    const [outboxPublish] = named('outbox publish user.registered');
    const [daprPublish] = named('dapr publish user.registered');
    const [claim] = named('outbox claim');
    expect(idsOf(outboxPublish as ReadableSpan).traceId).toBe(callerTrace);
    expect(parentOf(outboxPublish as ReadableSpan)).toBe(callerSpan);
    expect(parentOf(daprPublish as ReadableSpan)).toBe(idsOf(outboxPublish as ReadableSpan).spanId);
    expect(claim?.links.map((link) => link.context.spanId)).toEqual([callerSpan]);
    expect(outboxPublish?.links.map((link) => link.context.spanId)).toEqual([
      idsOf(claim as ReadableSpan).spanId,
    ]);

    // What the broker carries is delivered to a consumer, with daprd's own traceparent.
    const published = sink.received[0]?.body as Record<string, unknown>;
    expect(published.traceparent).toBe(traceparentOf(daprPublish as ReadableSpan));
    const logger = recordingLogger();
    const app = createServiceApp({ service: 'test', logger, appApiToken });
    app.consumeEvents({
      deadLetters: createMemoryDeadLetterStore(),
      definition: defineConsumer({
        consumes: { 'user.registered': [1] },
        handlers: {
          'user.registered': async () => {
            logger.info('welcoming');
            return 'SUCCESS';
          },
        },
      }),
    });
    const daprdSpan = '1111111111111111';
    const res = await app.request('/events/user.registered', {
      method: 'POST',
      headers: {
        'dapr-api-token': appApiToken,
        'content-type': 'application/cloudevents+json',
        traceparent: `00-${callerTrace}-${daprdSpan}-01`,
      },
      body: JSON.stringify({ ...published, pubsubname: 'pubsub', topic: 'user.registered' }),
    });
    expect(await res.json()).toEqual({ status: 'SUCCESS' });
    const [consume] = named('consume user.registered');
    expect(consume?.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(consume as ReadableSpan)).toBe(idsOf(daprPublish as ReadableSpan).spanId);
    expect(idsOf(consume as ReadableSpan).traceId).toBe(callerTrace);
    const [delivery] = named('POST /events/:type');
    expect(parentOf(delivery as ReadableSpan)).toBe(daprdSpan);
    for (const msg of ['welcoming', 'event handled']) {
      expect(logger.lines.find((line) => line.msg === msg)?.traceId, msg).toBe(callerTrace);
    }
  });

  it('makes a consumer span a child of the event’s traceparent, never a new root', async () => {
    exporter.reset();
    const app = createServiceApp({ service: 'test', logger: recordingLogger(), appApiToken });
    app.consumeEvents({
      deadLetters: createMemoryDeadLetterStore(),
      definition: defineConsumer({
        consumes: { 'user.registered': [1] },
        handlers: { 'user.registered': async () => 'SUCCESS' },
      }),
    });
    const publisherSpan = '2222222222222222';
    const otherTrace = 'abcdefabcdefabcdefabcdefabcdefab';
    const event = eventFixture(
      'user.registered',
      {},
      { traceparent: `00-${otherTrace}-${publisherSpan}-01` },
    );
    await app.request('/events/user.registered', {
      method: 'POST',
      headers: { 'dapr-api-token': appApiToken, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    const [consume] = named('consume user.registered');
    const [delivery] = named('POST /events/:type');
    expect(idsOf(consume as ReadableSpan).traceId).toBe(otherTrace);
    expect(parentOf(consume as ReadableSpan)).toBe(publisherSpan);
    // The delivery's own request started elsewhere: linked, not the parent.
    expect(consume?.links.map((link) => link.context.spanId)).toEqual([
      idsOf(delivery as ReadableSpan).spanId,
    ]);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('runs work stored during a request (a queued mail) later, in that request’s trace', async () => {
    exporter.reset();
    const storedIn = '00-1234567890abcdef1234567890abcdef-3333333333333333-01';
    const stored = requestContext.run({ requestId: 'r', traceparent: storedIn }, () =>
      currentTraceparent(),
    );
    expect(stored).toBe(storedIn);
    await inStoredTrace('email send', stored, { 'email.type': 'order_confirmed' }, async () => {});
    const [send] = named('email send');
    expect(idsOf(send as ReadableSpan).traceId).toBe('1234567890abcdef1234567890abcdef');
    expect(parentOf(send as ReadableSpan)).toBe('3333333333333333');
    await inStoredTrace('email send', undefined, {}, async () => {});
    expect(parentOf(named('email send')[1] as ReadableSpan)).toBeUndefined();
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { pollUntil } from '@shop/devkit/process';
import { recordingLogger } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceService } from './index.ts';
import { samplerFromEnv } from './sdk.ts';
import { contextOf, tracer } from './spans.ts';

type OtlpSpan = { name: string; traceId: string; parentSpanId?: string };
type OtlpExport = {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
};

/** A tiny OTLP/HTTP receiver: keeps every JSON export posted to /v1/traces. */
async function startReceiver(): Promise<{ server: Server; exports: OtlpExport[]; url: string }> {
  const exports: OtlpExport[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
      exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, exports, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('tracing over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const closes: Array<{ close(): unknown }> = [];
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const resource of closes) await resource.close();
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  it('exports the service’s spans, batched, to OTEL_EXPORTER_OTLP_ENDPOINT, and flushes them on close', async () => {
    const logger = recordingLogger();
    const lifecycle = {
      closes<T>(_name: string, resource: T): T {
        closes.push(resource as { close(): unknown });
        return resource;
      },
    };
    traceService('orders', lifecycle, logger, { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/` });
    await pollUntil(
      async () => (trace.getTracer('probe').startSpan('p').isRecording() ? true : undefined),
      {
        what: 'the SDK to start',
        timeoutMs: 10_000,
      },
    );
    const parent = contextOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    tracer.startSpan('checkout', { kind: SpanKind.SERVER }, parent).end();
    // Closing exports what the batch still holds.
    await closes[0]?.close();
    closes.length = 0;
    const spans = receiver.exports.flatMap((e) =>
      e.resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans).map((span) => ({ span, resource: r.resource })),
      ),
    );
    const checkout = spans.find(({ span }) => span.name === 'checkout');
    expect(checkout?.span.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(checkout?.span.parentSpanId).toBe('b7ad6b7169203331');
    expect(checkout?.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'orders' },
    });
    expect(logger.lines.find((line) => line.msg === 'tracing')).toMatchObject({
      endpoint: `${receiver.url}/`,
    });
  });
});

describe('samplerFromEnv', () => {
  const sampled = (env: Record<string, string>, traceparent?: string) =>
    samplerFromEnv(env).shouldSample(
      contextOf(traceparent, ROOT_CONTEXT),
      'ffffffffffffffffffffffffffffffff',
      's',
      SpanKind.SERVER,
      {},
      [],
    ).decision === SamplingDecision.RECORD_AND_SAMPLED;
  const unsampledParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

  it('follows the parent and samples every root by default', () => {
    expect(sampled({})).toBe(true);
    expect(sampled({}, unsampledParent)).toBe(false);
  });

  it('takes the standard names and ratio', () => {
    expect(sampled({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(false);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'always_on' }, unsampledParent)).toBe(true);
    expect(
      sampled({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }),
    ).toBe(false);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' })).toBe(
      true,
    );
  });

  it('refuses a sampler it does not know', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/sometimes/);
  });
});

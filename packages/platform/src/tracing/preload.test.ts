import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@shop/devkit/process';
import { startPostgres, type TestPostgres } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type OtlpSpan = { name: string; spanId: string; parentSpanId?: string; attributes?: unknown[] };

/** A tiny OTLP/HTTP receiver keeping every span of every JSON export. */
async function startReceiver(): Promise<{ server: Server; spans: OtlpSpan[]; url: string }> {
  const spans: OtlpSpan[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    spans.push(...body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, spans, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const platformDir = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('./testdata/traced-query.ts', import.meta.url));

describe('the tracing preload (node --import @shop/platform/tracing-preload)', () => {
  let postgres: TestPostgres;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    [postgres, receiver] = await Promise.all([startPostgres(), startReceiver()]);
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => receiver.server.close(resolve));
    await postgres?.stop();
  });

  it('traces a query made inside a span as its child, and none made outside any', async () => {
    const result = await runCommand(
      process.execPath,
      ['--import', '@shop/platform/tracing-preload', script],
      {
        cwd: platformDir,
        env: {
          ...process.env,
          DATABASE_URL: await postgres.createDatabase('preload'),
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        },
        timeoutMs: 30_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const parent = receiver.spans.find((span) => span.name === 'parent');
    const queries = receiver.spans.filter((span) => span.name !== 'parent');
    expect(queries.length, JSON.stringify(receiver.spans)).toBeGreaterThan(0);
    for (const query of queries) expect(query.parentSpanId).toBe(parent?.spanId);
    const text = JSON.stringify(queries);
    expect(text).toContain('inside');
    expect(text).not.toContain('outside');
  }, 60_000);
});

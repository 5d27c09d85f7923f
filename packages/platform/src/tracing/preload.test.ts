import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@shop/devkit/process';
import { startTestMongo, type TestMongo } from '@shop/devkit/testing';
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
  let mongo: TestMongo;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    [mongo, receiver] = await Promise.all([startTestMongo(), startReceiver()]);
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => receiver.server.close(resolve));
    await mongo?.stop();
  });

  it('traces a MongoDB command made inside a span as its child, and none made outside any', async () => {
    const result = await runCommand(
      process.execPath,
      ['--import', '@shop/platform/tracing-preload', script],
      {
        cwd: platformDir,
        env: {
          ...process.env,
          MONGO_URL: mongo.freshDatabaseUrl(),
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        },
        timeoutMs: 30_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const parent = receiver.spans.find((span) => span.name === 'parent');
    // The driver's own span for the find inside; the one outside any span makes none.
    const commands = receiver.spans.filter((span) => span.name !== 'parent');
    expect(
      commands.map((span) => span.name),
      JSON.stringify(receiver.spans),
    ).toEqual(['find places']);
    expect(commands[0]?.parentSpanId).toBe(parent?.spanId);
  }, 60_000);
});

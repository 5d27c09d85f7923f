// Run by preload.test.ts as a service is run: `node --import @shop/platform/tracing-preload`.
// One query inside a span and one outside any, against DATABASE_URL; then tracing closes,
// exporting to OTEL_EXPORTER_OTLP_ENDPOINT.
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import { startTracing } from '../sdk.ts';

const tracing = startTracing({ service: 'preload-test' });
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
await trace.getTracer('test').startActiveSpan('parent', async (span) => {
  await client.query("select 'inside' as place");
  span.end();
});
await client.query("select 'outside' as place");
await client.end();
await tracing?.close();

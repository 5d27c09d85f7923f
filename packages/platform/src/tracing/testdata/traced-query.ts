// Run by preload.test.ts as a service is run: `node --import @shop/platform/tracing-preload`.
// One MongoDB command inside a span and one outside any, against MONGO_URL; then tracing
// closes, exporting to OTEL_EXPORTER_OTLP_ENDPOINT.
import { trace } from '@opentelemetry/api';
import { MongoClient } from 'mongodb';
import { startTracing } from '../sdk.ts';

const tracing = startTracing({ service: 'preload-test' });
const client = new MongoClient(process.env.MONGO_URL ?? '');
await client.connect();
const places = client.db().collection('places');
await trace.getTracer('test').startActiveSpan('parent', async (span) => {
  await places.findOne({ place: 'inside' });
  span.end();
});
await places.findOne({ place: 'outside' });
await client.close();
await tracing?.close();

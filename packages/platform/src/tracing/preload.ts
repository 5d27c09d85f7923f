// Preloaded before a service's own modules (`node --import @shop/platform/tracing-preload
// src/main.ts`): ES modules bind their imports before any code of main.ts runs, so the
// MongoDB driver can only be instrumented by a loader hook registered ahead of it. SQL
// queries need none: Kysely reports each one (db/query-spans.ts).
// Without OTEL_EXPORTER_OTLP_ENDPOINT it loads nothing and does nothing.
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) {
  const { register } = await import('import-in-the-middle/register-hooks.mjs');
  // Only the driver is wrapped; every other module (the TypeScript sources among them)
  // loads untouched.
  register({ include: ['mongodb'] });
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { MongoDBInstrumentation } = await import('@opentelemetry/instrumentation-mongodb');
  // A command outside any span (the stream hub's polls) starts no trace of its own; the
  // provider these report to is registered later, by startTracing.
  registerInstrumentations({
    instrumentations: [new MongoDBInstrumentation({ requireParentSpan: true })],
  });
}

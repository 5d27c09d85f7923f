// Preloaded before a service's own modules (`node --import @shop/platform/tracing-preload
// src/main.ts`): ES modules bind their imports before any code of main.ts runs, so the
// database drivers can only be instrumented by a loader hook registered ahead of them.
// Without OTEL_EXPORTER_OTLP_ENDPOINT it loads nothing and does nothing.
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) {
  const { register } = await import('import-in-the-middle/register-hooks.mjs');
  // Only the drivers are wrapped; every other module (the TypeScript sources among them)
  // loads untouched.
  register({ include: ['pg', 'mongodb'] });
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { PgInstrumentation } = await import('@opentelemetry/instrumentation-pg');
  const { MongoDBInstrumentation } = await import('@opentelemetry/instrumentation-mongodb');
  // A query outside any span (the outbox's polls, the stream hub's) starts no trace of its
  // own; the provider these report to is registered later, by startTracing. Taking a pooled
  // connection is no span: a sixth of a checkout's spans, and none worth reading.
  registerInstrumentations({
    instrumentations: [
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new MongoDBInstrumentation({ requireParentSpan: true }),
    ],
  });
}

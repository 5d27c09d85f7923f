import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { LogEvent } from 'kysely';

const tracer = trace.getTracer('@shop/platform/db');

// A transaction's brackets say nothing its queries' spans do not.
const transactionBracket = /^\s*(begin|commit|rollback|start transaction|savepoint|release)\b/i;

/** SELECT, INSERT, ...: the statement's first word, as OpenTelemetry's db.operation.name. */
function operationOf(sql: string): string {
  const match = /^\s*(\w+)/.exec(sql);
  return (match?.[1] ?? 'QUERY').toUpperCase();
}

/**
 * A Kysely `log` that records each query as a client span under the span that made it,
 * after the fact, from the duration Kysely measured. Queries outside any span (the
 * outbox's polls) record nothing. This replaced instrumentation-pg, which wraps every
 * query, callback and pool event and cost a checkout 2-3 ms of CPU per SQL service
 * (npm run bench: tracing's cost went from 16-19% of the throughput to about 12%).
 */
export function querySpans(database: { system: string; name: string }) {
  return (event: LogEvent): void => {
    if (!trace.getSpan(context.active())?.isRecording()) return;
    const sql = event.query.sql;
    if (transactionBracket.test(sql)) return;
    const end = performance.timeOrigin + performance.now();
    const operation = operationOf(sql);
    const span = tracer.startSpan(`${operation} ${database.name}`, {
      kind: SpanKind.CLIENT,
      startTime: end - event.queryDurationMillis,
      attributes: {
        'db.system.name': database.system,
        'db.namespace': database.name,
        'db.operation.name': operation,
        'db.query.text': sql,
      },
    });
    if (event.level === 'error') {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', (event.error as { code?: string })?.code ?? 'error');
    }
    span.end(end);
  };
}

import { pollUntil } from '../process/index.ts';

// Reading one trace back through Jaeger's query API (api/traces/{id}, its JSON model) and
// judging its shape: which service and which sidecar made each span, what is its parent.

export type JaegerSpan = {
  spanID: string;
  operationName: string;
  processID: string;
  /** Microseconds since the epoch, and microseconds long. */
  startTime: number;
  duration: number;
  references: Array<{ refType: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
};
export type JaegerTrace = {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
};

/** The trace as Jaeger's query API returns it, or undefined while it knows none. */
export async function jaegerTrace(
  queryUrl: string,
  traceId: string,
): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${queryUrl}/api/traces/${traceId}`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] }).data[0];
}

/** daprd names its instrumentation scope `dapr-diagnostics`; the services' are others. */
export function isSidecarSpan(span: JaegerSpan): boolean {
  return span.tags.some((tag) => tag.key === 'otel.scope.name' && tag.value === 'dapr-diagnostics');
}

/** A span of a database client: it carries OpenTelemetry's db.system(.name) attribute. */
export function isDatabaseSpan(span: JaegerSpan): boolean {
  return span.tags.some((tag) => tag.key === 'db.system.name' || tag.key === 'db.system');
}

export function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
  return trace.processes[span.processID]?.serviceName ?? '?';
}

/** The spans `service` made itself (`app`) or its daprd made (`sidecar`). */
export function spansOf(trace: JaegerTrace, service: string, side: 'app' | 'sidecar') {
  return trace.spans.filter(
    (span) => serviceOf(trace, span) === service && isSidecarSpan(span) === (side === 'sidecar'),
  );
}

export const parentOf = (span: JaegerSpan): string | undefined =>
  span.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID;

/** The names of `span`'s ancestors inside the trace, nearest first. */
export function ancestors(trace: JaegerTrace, span: JaegerSpan): string[] {
  const byId = new Map(trace.spans.map((candidate) => [candidate.spanID, candidate]));
  const names: string[] = [];
  for (let up = byId.get(parentOf(span) ?? ''); up; up = byId.get(parentOf(up) ?? '')) {
    names.push(up.operationName);
    if (names.length > trace.spans.length) break;
  }
  return names;
}

/** Spans whose parent is not in the trace: the one root a whole request should have. */
export function rootsOf(trace: JaegerTrace): JaegerSpan[] {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  return trace.spans.filter((span) => !ids.has(parentOf(span) ?? ''));
}

/** Polls the trace until `problems` finds none; returns the last list found. */
export async function settledTrace(
  queryUrl: string,
  traceId: string,
  problems: (trace: JaegerTrace) => string[],
  timeoutMs = 60_000,
): Promise<{ trace: JaegerTrace | undefined; problems: string[] }> {
  let last: { trace: JaegerTrace | undefined; problems: string[] } = {
    trace: undefined,
    problems: ['no trace yet'],
  };
  await pollUntil(
    async () => {
      const trace = await jaegerTrace(queryUrl, traceId);
      last = { trace, problems: trace ? problems(trace) : ['no trace yet'] };
      return last.problems.length === 0 ? last : undefined;
    },
    { what: `trace ${traceId} complete in Jaeger`, timeoutMs, intervalMs: 1_000 },
  ).catch(() => undefined);
  return last;
}

/**
 * The newest trace that has a span of `service` named `operation` (Jaeger's search, which
 * returns them in no set order), or undefined when none is stored.
 */
export async function newestTrace(
  queryUrl: string,
  service: string,
  operation: string,
): Promise<JaegerTrace | undefined> {
  const query = new URLSearchParams({ service, operation, limit: '20', lookback: '1h' });
  const res = await fetch(`${queryUrl}/api/traces?${query}`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
  const traces = ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
  const startOf = (trace: JaegerTrace) => Math.min(...trace.spans.map((span) => span.startTime));
  return traces.sort((a, b) => startOf(b) - startOf(a))[0];
}

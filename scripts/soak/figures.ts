// Turns what the soak recorded (every request, every kill) into the report's figures. Pure
// functions of their inputs, so they are tested without a shop.
import type { Kill, OperationFigures, Percentiles, SecondOfRun } from './report-types.ts';

/** One request of the run. */
export type Sent = {
  op: string;
  /** Milliseconds since the load began, when it left. */
  at: number;
  latencyMs: number;
  /** The HTTP status; 0 when no answer came. */
  code: number;
  error: string;
  /** 2xx, or a refusal that is the shop's right answer (expectedRefusals). */
  ok: boolean;
};

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0
      ? 0
      : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number);
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0 };
}

/** `200`, `409`, `error:timeout`, ...: what one request came to. */
export function outcomeOf(sent: Pick<Sent, 'code' | 'error'>): string {
  if (sent.code > 0) return String(sent.code);
  if (/timeout|deadline/i.test(sent.error)) return 'error:timeout';
  if (/refused/i.test(sent.error)) return 'error:connection refused';
  if (/reset|EOF|closed/i.test(sent.error)) return 'error:connection reset';
  return 'error:other';
}

export function countOutcomes(all: Sent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sent of all) counts[outcomeOf(sent)] = (counts[outcomeOf(sent)] ?? 0) + 1;
  return counts;
}

const answeredLatencies = (all: Sent[]) => all.filter((s) => s.code > 0).map((s) => s.latencyMs);

/** Requests, those answered well and the rest, and the latencies of a group of requests. */
function tally(sent: Sent[]) {
  const ok = sent.filter((s) => s.ok).length;
  return { ok, errors: sent.length - ok, ...percentiles(answeredLatencies(sent)) };
}

export function operationFigures(all: Sent[]): OperationFigures[] {
  return [...Map.groupBy(all, (sent) => sent.op)]
    .map(([name, sent]) => ({ name, requests: sent.length, ...tally(sent) }))
    .sort((a, b) => b.requests - a.requests);
}

export function timeline(all: Sent[], seconds: number): SecondOfRun[] {
  const bySecond = Map.groupBy(all, (sent) => Math.floor(sent.at / 1000));
  return Array.from({ length: seconds }, (_, second) => {
    const sent = bySecond.get(second) ?? [];
    return { second, sent: sent.length, ...tally(sent) };
  });
}

/** The app a process belongs to: `orders-2-dapr` → `orders`; infrastructure names stay. */
export function appOf(process: string): string {
  return process.replace(/-dapr$/, '').replace(/-\d+$/, '');
}

/**
 * The operations that wait on an app's answer. Inventory, payments and users sit only on
 * the saga's or the sign-in's path, and the mail server on the outbox's, so no request of
 * the mix fails while they are down; the gateway and the rest of the infrastructure carry
 * every operation.
 */
export function affectedOperations(
  process: string,
  apps: string[],
  operations: string[],
): string[] {
  const app = appOf(process);
  // The mail server is only on the notifications' outbox path, never a request's.
  if (app === 'mailpit') return [];
  if (app === 'gateway' || !apps.includes(app)) return operations;
  const paths: Record<string, string[]> = {
    catalog: ['browse', 'search', 'product', 'wishlist', 'cart', 'checkout', 'cart-checkout'],
    cart: ['cart', 'cart-checkout'],
    orders: ['checkout', 'cart-checkout', 'cancel'],
    notifications: ['notifications'],
  };
  return (paths[app] ?? []).filter((op) => operations.includes(op));
}

/**
 * For one kill, over the requests sent until the next kill: the first failure on an affected
 * operation; then the first success after the last such failure (the path healthy again),
 * wherever it falls.
 */
export function healOf(
  kill: { atMs: number; untilMs: number; affected: string[] },
  all: Sent[],
): Pick<Kill, 'firstErrorSecond' | 'healMs'> {
  const onPath = (s: Sent) => kill.affected.includes(s.op);
  const failures = all.filter(
    (s) => s.at >= kill.atMs && s.at < kill.untilMs && onPath(s) && !s.ok,
  );
  const first = failures[0];
  const last = failures.at(-1);
  if (!first || !last) return { firstErrorSecond: null, healMs: null };
  // The success may come after the next kill began: healing does not stop at its window.
  const healed = all.find((s) => s.at > last.at && onPath(s) && s.ok);
  return {
    firstErrorSecond: Math.round(first.at / 100) / 10,
    healMs: healed ? Math.round(healed.at - first.at) : null,
  };
}

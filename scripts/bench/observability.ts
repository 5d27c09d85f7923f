// Observability's budget (issue 18): the whole shop's memory at idle with observability off
// and on (a private Jaeger and Prometheus, every service and sidecar tracing at full
// sampling), and what tracing costs a checkout. Shops of the same shape (PostgreSQL, every
// service, the Redis broker): one off, for its idle memory; one on, for its idle memory; then
// a second one with Jaeger and Prometheus but tracing off beside it, and the same checkout step on both at
// once, a few rounds.
//
// Tracing's cost is read from the CPU each checkout takes, not from the highest rate each
// shop sustains: on this machine the CPU is what caps checkouts (at 30/s every core is busy),
// so the sustained rate goes as 1 / CPU per checkout, and one step per shop measures that
// to a few per cent where stepping rates up measures it to a whole step (5/s of ~20/s). The
// CPU is counted per process, and both shops take their steps at the same moment, so a pair
// sees the same machine whatever else runs on it (on a shared machine that moves CPU per
// checkout by 20% from one minute to the next). Both shops run Jaeger and Prometheus, so
// the cost measured is tracing's alone: every trace sampled against no tracing (Prometheus's
// scrapes read the outboxes and the mail queue, which costs FerretDB a few ms per
// checkout's worth of rows). Run directly it prints only this section:
//   node scripts/bench/observability.ts
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestShop } from '@shop/devkit/testing';
import {
  type CheckoutStep,
  meetsBound,
  prepareSteps,
  runStep,
  type StepOptions,
} from './checkout.ts';
import { measureMemory, type ProcessMemory } from './memory.ts';
import { benchAdmin, startBenchShop } from './shop.ts';

/** The issue's bounds: idle memory off and on, and the throughput tracing may take. */
export const observabilityBounds = { offGiB: 1.2, onGiB: 1.5, tracingCost: 0.1 };

export type TracingRound = { off: CheckoutStep; on: CheckoutStep };

export type ObservabilityBudget = {
  idleOff: ProcessMemory[];
  idleOn: ProcessMemory[];
  /** The shop with observability on after every round: Jaeger now holds those traces. */
  onAfterCheckouts: ProcessMemory[];
  rounds: TracingRound[];
  /** The services Jaeger holds spans of after the rounds: proof they were exported and stored. */
  tracedServices: string[];
  checkoutTrace: TraceShape | undefined;
};

export type TraceShape = { spans: number; traces: number; byScope: Record<string, number> };

export type ObservabilityOptions = {
  idleSeconds: number;
  rate: number;
  seconds: number;
  rounds: number;
};

type ShopMode = 'off' | 'untraced' | 'traced';

/** The settings of this section, from BENCH_* (see scripts/bench.ts). */
export function observabilityOptionsFromEnv(env = process.env): ObservabilityOptions {
  return {
    idleSeconds: Number(env.BENCH_IDLE_SECONDS ?? 10),
    rate: Number(env.BENCH_TRACING_RATE ?? 8),
    seconds: Number(env.BENCH_TRACING_SECONDS ?? 10),
    rounds: Number(env.BENCH_TRACING_ROUNDS ?? 3),
  };
}

/**
 * A fresh bench shop: observability off; Jaeger and Prometheus on but tracing off (no
 * service loads the SDK, no sidecar samples); or on and keeping every trace (every sidecar
 * and service sampling all, which is checked).
 */
async function startShop(mode: ShopMode): Promise<TestShop> {
  if (mode === 'off') return startBenchShop({ observability: false });
  if (mode === 'untraced') {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: '' };
    return startBenchShop({ observability: true, traceSampling: 0, env });
  }
  const shop = await startBenchShop({ observability: true, traceSampling: 1 });
  assertSidecarsSampleAll(shop);
  return shop;
}

/** Throws unless the sidecars' configuration of this run samples every request. */
function assertSidecarsSampleAll(shop: TestShop): void {
  const config = readFileSync(join(shop.dataDir, 'observability', 'dapr-config.yaml'), 'utf8');
  const rate = /^\s*samplingRate:\s*["']?([\d.]+)["']?\s*$/m.exec(config)?.[1];
  if (rate === undefined || Number(rate) !== 1)
    throw new Error(`the sidecars sample at ${rate ?? 'no rate'}, not 1: not full sampling`);
}

/** The service names Jaeger has spans of. */
async function tracedServices(shop: TestShop): Promise<string[]> {
  if (!shop.jaeger) return [];
  const res = await fetch(`${shop.jaeger.queryUrl}/api/services`);
  if (!res.ok) throw new Error(`jaeger's /api/services answered ${res.status}`);
  return (((await res.json()) as { data: string[] | null }).data ?? []).sort();
}

type JaegerSpan = { tags: Array<{ key: string; value: unknown }> };

/**
 * What a traced checkout is made of: the median number of spans in the traces of recent
 * checkouts (those holding orders' POST /api/v1/orders), and that trace's spans counted by
 * who made them (the instrumentation's scope: pg, mongodb, the platform's own, daprd's).
 */
async function checkoutTraceShape(shop: TestShop): Promise<TraceShape | undefined> {
  if (!shop.jaeger) return undefined;
  const query = new URLSearchParams({
    service: 'orders',
    operation: 'POST /api/v1/orders',
    limit: '20',
  });
  const res = await fetch(`${shop.jaeger.queryUrl}/api/traces?${query}`);
  if (!res.ok) throw new Error(`jaeger's /api/traces answered ${res.status}`);
  const traces = ((await res.json()) as { data: Array<{ spans: JaegerSpan[] }> | null }).data;
  if (!traces?.length) return undefined;
  traces.sort((a, b) => a.spans.length - b.spans.length);
  const median = traces[Math.floor(traces.length / 2)] as { spans: JaegerSpan[] };
  const byScope: Record<string, number> = {};
  for (const span of median.spans) {
    const scope = span.tags.find((tag) => tag.key === 'otel.scope.name')?.value;
    const name = typeof scope === 'string' ? scope.replace('@opentelemetry/', '') : 'other';
    byScope[name] = (byScope[name] ?? 0) + 1;
  }
  return { spans: median.spans.length, traces: traces.length, byScope };
}

const idle = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * The same checkout step at the same moment on a shop with tracing off and on the shop
 * sampling every trace, `rounds` times: each pair sees the same machine, whatever else runs on it then.
 */
async function tracingRounds(on: TestShop, options: ObservabilityOptions): Promise<TracingRound[]> {
  const off = await startShop('untraced');
  const shops = [off, on];
  const steps: StepOptions[] = [];
  try {
    const maxOrders = options.rate * options.seconds * options.rounds + 100;
    for (const shop of shops) steps.push(await prepareSteps(shop, benchAdmin, { maxOrders }));
    const both = (rate: number, seconds: number) =>
      Promise.all(shops.map((shop, i) => runStep(shop, steps[i] as StepOptions, rate, seconds)));
    await both(5, 2); // warm-up: connections, pools, JIT; not reported
    const rounds: TracingRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const [offStep, onStep] = await both(options.rate, options.seconds);
      if (!offStep || !onStep) throw new Error('a tracing step did not run');
      rounds.push({ off: offStep, on: onStep });
    }
    return rounds;
  } finally {
    for (const step of steps) rmSync(step.workDir, { recursive: true, force: true });
    await off.stop();
  }
}

/** The idle memory of a shop with observability off, started for that alone. */
async function idleMemoryAlone(idleSeconds: number): Promise<ProcessMemory[]> {
  const shop = await startShop('off');
  try {
    await idle(idleSeconds);
    return measureMemory(shop.group);
  } finally {
    await shop.stop();
  }
}

/**
 * Each shop's idle memory is read while it runs alone (PSS splits the pages it shares with
 * any other process, another shop's too); then the tracing rounds, then the traced shop's
 * memory again, alone, with the rounds' traces in Jaeger.
 */
export async function benchObservability(
  options: ObservabilityOptions,
): Promise<ObservabilityBudget> {
  const idleOff = await idleMemoryAlone(options.idleSeconds);
  const onShop = await startShop('traced');
  try {
    await idle(options.idleSeconds);
    const idleOn = measureMemory(onShop.group);
    const rounds = await tracingRounds(onShop, options);
    const traced = await tracedServices(onShop);
    if (traced.length === 0) throw new Error('jaeger holds no spans after the checkouts');
    return {
      idleOff,
      idleOn,
      onAfterCheckouts: measureMemory(onShop.group),
      rounds,
      tracedServices: traced,
      checkoutTrace: await checkoutTraceShape(onShop),
    };
  } finally {
    await onShop.stop();
  }
}

const totalMiB = (rows: ProcessMemory[]) => rows.reduce((sum, row) => sum + row.pssMiB, 0);
const cpuPerCheckout = (step: CheckoutStep) =>
  step.cpuMsPerCheckout.reduce((sum, row) => sum + row.ms, 0);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const mib = (value: number | undefined) =>
  (value === undefined ? '-' : value.toFixed(1)).padStart(9);
const gib = (value: number) => `${(value / 1024).toFixed(2)} GiB`;
const pssOf = (rows: ProcessMemory[], name: string) =>
  rows.find((row) => row.name === name)?.pssMiB;

/** Each process's idle PSS off and on, side by side, then the totals against their bounds. */
function formatMemoryBudget(budget: ObservabilityBudget): string[] {
  const { idleOff, idleOn } = budget;
  const names = [...new Set([...idleOff, ...idleOn].map((row) => row.name))];
  const within = (value: number, boundGiB: number) =>
    `${value < boundGiB * 1024 ? 'under' : 'OVER'} the ${boundGiB} GiB bound`;
  const [offTotal, onTotal] = [totalMiB(idleOff), totalMiB(idleOn)];
  const tools = (pssOf(idleOn, 'jaeger') ?? 0) + (pssOf(idleOn, 'prometheus') ?? 0);
  const checkouts = budget.rounds.reduce((sum, round) => sum + round.on.accepted, 0);
  return [
    `  ${'process'.padEnd(22)} ${'off MiB'.padStart(9)} ${'on MiB'.padStart(9)}`,
    ...names.map(
      (name) => `  ${name.padEnd(22)} ${mib(pssOf(idleOff, name))} ${mib(pssOf(idleOn, name))}`,
    ),
    `  ${'total'.padEnd(22)} ${mib(offTotal)} ${mib(onTotal)}`,
    `  the whole shop, observability off: ${gib(offTotal)}, ${within(offTotal, observabilityBounds.offGiB)}`,
    `  the whole shop, observability on:  ${gib(onTotal)}, ${within(onTotal, observabilityBounds.onGiB)} (Jaeger and Prometheus: ${tools.toFixed(0)} MiB)`,
    `  observability on, after the ${checkouts} checkouts below: ${gib(totalMiB(budget.onAfterCheckouts))} (jaeger ${pssOf(budget.onAfterCheckouts, 'jaeger')?.toFixed(0)} MiB)`,
  ];
}

/** One step: what it sustained and what each checkout cost. */
function formatStep(name: string, step: CheckoutStep): string {
  const accepted = step.accepted / step.seconds;
  return `  ${name.padEnd(34)} ${accepted.toFixed(1).padStart(5)}/s accepted   errors ${step.errors}   202->terminal p99 ${step.terminalP99Ms.toFixed(0).padStart(5)} ms${step.unsettled ? `   ${step.unsettled} still pending` : ''}   ${meetsBound(step) ? 'ok' : 'MISSED'}   cpu per checkout ${cpuPerCheckout(step).toFixed(1).padStart(6)} ms   machine ${(step.machineBusy * 100).toFixed(0)}% busy, the shop ${(step.shopShare * 100).toFixed(0)}% of that`;
}

/** Each process's CPU per checkout, the mean over `steps`. */
function meanCpuByProcess(steps: CheckoutStep[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const step of steps)
    for (const row of step.cpuMsPerCheckout) sums.set(row.name, (sums.get(row.name) ?? 0) + row.ms);
  return new Map([...sums].map(([name, ms]) => [name, ms / steps.length]));
}

/** Where the extra CPU of a traced checkout goes: the processes that grew, most first. */
function cpuGrowth(rounds: TracingRound[]): string {
  const off = meanCpuByProcess(rounds.map((round) => round.off));
  return [...meanCpuByProcess(rounds.map((round) => round.on))]
    .map(([name, ms]) => ({ name, ms: ms - (off.get(name) ?? 0) }))
    .sort((a, b) => b.ms - a.ms)
    .filter((row) => Math.abs(row.ms) >= 0.3)
    .map((row) => `${row.name} ${row.ms >= 0 ? '+' : ''}${row.ms.toFixed(1)}`)
    .join(', ');
}

/** Tracing's cost: every round's pair of steps, where the extra CPU goes, and the bound. */
function formatTracingCost({
  rounds,
  tracedServices,
  checkoutTrace,
}: ObservabilityBudget): string[] {
  const offCpu = mean(rounds.map((round) => cpuPerCheckout(round.off)));
  const onCpu = mean(rounds.map((round) => cpuPerCheckout(round.on)));
  const throughput = offCpu / onCpu;
  const cost = 1 - throughput;
  const bound = observabilityBounds.tracingCost;
  const perRound = rounds.map(
    (round) => `${(cpuPerCheckout(round.off) / cpuPerCheckout(round.on)).toFixed(2)}x`,
  );
  return [
    ...rounds.flatMap((round, i) => [
      formatStep(`round ${i + 1}, tracing off`, round.off),
      formatStep(`round ${i + 1}, tracing at full sampling`, round.on),
    ]),
    `  extra cpu per traced checkout, by process (ms): ${cpuGrowth(rounds)}`,
    `  spans in jaeger from: ${tracedServices.join(', ')}`,
    checkoutTrace
      ? `  one checkout's trace (the median of ${checkoutTrace.traces}): ${checkoutTrace.spans} spans, by scope ${Object.entries(
          checkoutTrace.byScope,
        )
          .sort((a, b) => b[1] - a[1])
          .map(([scope, n]) => `${scope} ${n}`)
          .join(', ')}`
      : '  no checkout trace found in jaeger',
    `  ${'checkout throughput, tracing on vs off'.padEnd(42)} ${throughput.toFixed(2)}x (cpu per checkout ${offCpu.toFixed(1)} / ${onCpu.toFixed(1)} ms; each round ${perRound.join(', ')}): tracing costs ${(cost * 100).toFixed(0)}%, ${cost <= bound ? 'within' : 'OVER'} the ${bound * 100}% bound`,
  ];
}

export function formatObservability(
  budget: ObservabilityBudget,
  options: ObservabilityOptions,
): string {
  return [
    `observability's budget: shops on PostgreSQL, observability off and on (Jaeger + Prometheus; every service and sidecar sampling every trace)`,
    `memory at idle, ${options.idleSeconds} s after start, neither shop beside the other (PSS):`,
    ...formatMemoryBudget(budget),
    `tracing's cost: checkouts at ${options.rate}/s for ${options.seconds} s, at once on a shop with tracing off and on one sampling every trace, both with Jaeger and Prometheus, ${options.rounds} rounds; throughput taken as 1 / cpu per checkout (the CPU caps checkouts here)`,
    ...formatTracingCost(budget),
  ].join('\n');
}

if (import.meta.main) {
  const options = observabilityOptionsFromEnv();
  console.log(formatObservability(await benchObservability(options), options));
}

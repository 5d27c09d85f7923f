// Where a checkout's CPU goes. Starts the bench shop with every service's inspector and
// every sidecar's pprof server open, then:
//  - checkouts at a constant rate (the bench's open-model step): their CPU per checkout by
//    process from /proc; then the same step while every process is profiled: each
//    process's top functions by self time, and per process the raw profile and a flame
//    graph (SVG) in the output folder;
//  - the bare gateway hop at a constant rate: its CPU per request by process, beside Dapr's
//    published cost of a sidecar; then again profiled (flame graphs in hop/).
// Profiling costs CPU of its own, so the /proc figures come from the unprofiled runs.
//   npm run profile -- [--rate 15] [--seconds 10] [--hop-rate 100] [--hop-seconds 10]
//                      [--interval-us 1000] [--out .shop/profile/<time>] [--traced]
// --traced runs the shop with Jaeger and Prometheus and every trace sampled, to see what
// tracing costs where.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findRepoRoot } from '@shop/devkit/process';
import type { TestShop } from '@shop/devkit/testing';
import { resolveVegeta } from '@shop/devkit/toolchain';
import { type CheckoutStep, prepareSteps, runStep } from './bench/checkout.ts';
import { benchAdmin, startBenchShop } from './bench/shop.ts';
import { type CpuShare, formatShares } from './profile/cpu.ts';
import { topSelfShares } from './profile/fold.ts';
import {
  daprPublishedMsPerSidecar,
  type HopFigures,
  hopProcesses,
  measureHop,
} from './profile/hop.ts';
import { type OperationTotals, operationTotals, perUnit } from './profile/operations.ts';
import {
  onlyProcesses,
  type ProfilePorts,
  profilePorts,
  profilingArgs,
  type Recorded,
  startRecording,
} from './profile/record.ts';

// The profile window outlasts the load by this much: the last orders' saga still runs.
const tailSeconds = 2;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '15' },
    seconds: { type: 'string', default: '10' },
    'hop-rate': { type: 'string', default: '100' },
    'hop-seconds': { type: 'string', default: '10' },
    'interval-us': { type: 'string', default: '1000' },
    out: { type: 'string' },
    traced: { type: 'boolean', default: false },
  },
});
const settings = {
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  hopRate: Number(values['hop-rate']),
  hopSeconds: Number(values['hop-seconds']),
  intervalUs: Number(values['interval-us']),
};
const repoRoot = findRepoRoot(import.meta.dirname);
const runName = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replaceAll(':', '-');
const outDir = resolve(values.out ?? join(repoRoot, '.shop', 'profile', runName));

function hopLines(hop: HopFigures): string[] {
  const total = hop.cpuMsPerRequest.reduce((sum, s) => sum + s.ms, 0);
  const sidecars = hop.cpuMsPerRequest.filter((s) => s.name.endsWith('-dapr'));
  return [
    `bare hop: GET /.well-known/jwks.json via the gateway at ${hop.rate}/s for ${hop.seconds} s: ${hop.ok} ok, ${hop.errors} errors, p50 ${hop.p50Ms.toFixed(2)} ms, p99 ${hop.p99Ms.toFixed(2)} ms (machine ${(hop.machineBusy * 100).toFixed(0)}% busy)`,
    `  cpu per request ${total.toFixed(2)} ms: ${formatShares(hop.cpuMsPerRequest)}`,
    `  Dapr's published cost: ~${daprPublishedMsPerSidecar} ms per request per sidecar (v1.17 perf report, HTTP invocation at 1,000 rps); here ${sidecars.map((s) => `${s.name} ${(s.ms / daprPublishedMsPerSidecar).toFixed(1)}x`).join(', ')}`,
  ];
}

/**
 * Each profiled process, busiest first: its CPU per unit (from /proc), then its five
 * hottest functions by self time, each as a share of its samples and that share in ms.
 */
function topSelfLines(recorded: Recorded[], cpu: CpuShare[]): string[] {
  const cpuOf = (name: string) => cpu.find((s) => s.name === name)?.ms ?? 0;
  return [...recorded]
    .sort((a, b) => cpuOf(b.name) - cpuOf(a.name))
    .map((profile) => {
      const ms = cpuOf(profile.name);
      const top = topSelfShares(profile.folded, 5).map(
        (f) => `${f.name} ${(f.share * 100).toFixed(0)}% ${(f.share * ms).toFixed(2)}`,
      );
      return `    ${profile.name.padEnd(20)} ${ms.toFixed(2).padStart(6)} ms: ${top.length > 0 ? top.join('; ') : 'no samples'}`;
    });
}

const cpuSum = (shares: CpuShare[]) => shares.reduce((sum, s) => sum + s.ms, 0);

function stepLine(step: CheckoutStep): string {
  return `checkouts at ${step.rate}/s for ${step.seconds} s: ${step.accepted} accepted, ${step.errors} errors, ${step.unsettled} still pending, 202 p99 ${step.p99Ms.toFixed(1)} ms, 202->terminal p99 ${step.terminalP99Ms.toFixed(0)} ms (machine ${(step.machineBusy * 100).toFixed(0)}% busy, the shop ${(step.shopShare * 100).toFixed(0)}% of that)`;
}

/** Operations per checkout, and the CPU of the processes serving them per operation. */
function operationLines(plain: CheckoutStep, operations: OperationTotals[]): string[] {
  const [before, after] = operations as [OperationTotals, OperationTotals];
  const counts = perUnit(before, after, plain.accepted).filter((o) => o.perUnit > 0);
  const cpuOf = (match: (name: string) => boolean) =>
    cpuSum(plain.cpuMsPerCheckout.filter((s) => match(s.name)));
  const countOf = (name: string) => counts.find((o) => o.name === name)?.perUnit ?? Number.NaN;
  const sidecarRequests =
    countOf('sidecar API requests from apps') + countOf('requests from sidecars to apps');
  return [
    `  operations per checkout: ${counts.map((o) => `${o.name} ${o.perUnit.toFixed(1)}`).join(', ')}`,
    `  cpu per operation: sidecars ${(cpuOf((n) => n.endsWith('-dapr')) / sidecarRequests).toFixed(2)} ms per sidecar request, postgres ${(cpuOf((n) => n === 'postgres') / countOf('postgres transactions')).toFixed(2)} ms per transaction, redis ${((cpuOf((n) => n === 'redis') / countOf('redis commands')) * 1000).toFixed(0)} µs per command`,
  ];
}

function checkoutLines(
  plain: CheckoutStep,
  profiled: CheckoutStep,
  recorded: Recorded[],
  operations: OperationTotals[],
): string[] {
  const total = cpuSum(plain.cpuMsPerCheckout);
  const more = cpuSum(profiled.cpuMsPerCheckout) / total - 1;
  return [
    stepLine(plain),
    `  cpu per checkout ${total.toFixed(1)} ms (/proc, load and settling): ${formatShares(
      plain.cpuMsPerCheckout.filter((s) => s.ms >= 0.05),
      1,
    )}`,
    ...operationLines(plain, operations),
    `  again under the profilers: ${stepLine(profiled)}, cpu per checkout ${cpuSum(profiled.cpuMsPerCheckout).toFixed(1)} ms (${(more * 100).toFixed(0)}% more)`,
    `  top self time per process: share of its samples (the load and ${tailSeconds} s after), and that share of its unprofiled cpu per checkout:`,
    ...topSelfLines(recorded, plain.cpuMsPerCheckout),
  ];
}

/**
 * A checkout step unprofiled (the CPU figures), then the same step under every process's
 * profiler (where that CPU goes), after a warm-up step; the report's lines.
 */
async function profileCheckouts(shop: TestShop, ports: ProfilePorts): Promise<string[]> {
  const maxOrders = 2 * settings.rate * settings.seconds + 100;
  const stepOptions = await prepareSteps(shop, benchAdmin, { maxOrders });
  try {
    await runStep(shop, stepOptions, 5, 2); // warm-up: connections, pools, JIT; not reported
    const before = await operationTotals(shop);
    const plain = await runStep(shop, stepOptions, settings.rate, settings.seconds);
    const operations = [before, await operationTotals(shop)];
    const recording = await startRecording(ports, {
      seconds: settings.seconds + tailSeconds,
      intervalUs: settings.intervalUs,
      outDir,
    });
    const [profiled, recorded] = await Promise.all([
      runStep(shop, stepOptions, settings.rate, settings.seconds),
      recording.finish(),
    ]);
    return checkoutLines(plain, profiled, recorded, operations);
  } finally {
    rmSync(stepOptions.workDir, { recursive: true, force: true });
  }
}

/**
 * The bare hop's CPU by process, unprofiled; then the same load again under the hop's
 * processes' profilers (flame graphs in hop/), which also says what profiling costs.
 */
async function hopReport(shop: TestShop, ports: ProfilePorts): Promise<string[]> {
  const workDir = mkdtempSync(join(tmpdir(), 'shop-profile-'));
  const hopDir = join(outDir, 'hop');
  mkdirSync(hopDir, { recursive: true });
  try {
    const vegeta = resolveVegeta(repoRoot);
    const options = { vegeta, workDir, rate: settings.hopRate, seconds: settings.hopSeconds };
    const plain = await measureHop(shop, options);
    // measureHop warms up for a second first: the window covers it too.
    const recording = await startRecording(onlyProcesses(ports, hopProcesses), {
      seconds: settings.hopSeconds + 1,
      intervalUs: settings.intervalUs,
      outDir: hopDir,
    });
    const [profiled, recorded] = await Promise.all([measureHop(shop, options), recording.finish()]);
    const sum = (hop: HopFigures) => cpuSum(hop.cpuMsPerRequest);
    return [
      ...hopLines(plain),
      `  again under the profilers: cpu per request ${sum(profiled).toFixed(2)} ms (${((sum(profiled) / sum(plain) - 1) * 100).toFixed(0)}% more); top self time per process, as shares of the unprofiled cpu per request (flame graphs in hop/):`,
      ...topSelfLines(recorded, plain.cpuMsPerRequest),
    ];
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

mkdirSync(outDir, { recursive: true });
const ports = await profilePorts(repoRoot);
// Figures measured after a process died would describe a broken shop: none are printed.
let crashed: string | undefined;
const shop = await startBenchShop({
  ...(values.traced && { observability: true, traceSampling: 1 }),
  extraArgs: profilingArgs(ports),
  onCrash: (exit) => {
    crashed = `${exit.name} exited (code ${exit.code}, signal ${exit.signal})`;
  },
});
try {
  const lines: string[] = [];
  const say = (more: string[]) => {
    if (crashed) throw new Error(`the shop stopped: ${crashed}; its figures are not reported`);
    lines.push(...more);
    console.log(more.join('\n'));
  };
  say([`profile run ${runName}: ${outDir}`, '']);
  say(await profileCheckouts(shop, ports));
  say(['', ...(await hopReport(shop, ports))]);
  say([
    '',
    'per process: <name>.cpuprofile or <name>.pb.gz (raw), <name>.svg (flame graph), <name>.folded.txt',
  ]);
  writeFileSync(join(outDir, 'summary.txt'), `${lines.join('\n')}\n`);
} finally {
  await shop.stop();
}

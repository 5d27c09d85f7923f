// Checkouts at a constant arrival rate: vegeta sends POST /api/v1/orders on schedule whether
// or not earlier ones were answered (an open model, as real customers arrive), stepping the
// rate up. For each step: vegeta's own latency percentiles of the 202, the errors, and how
// long each order took from its 202 to its terminal state, read afterwards from the orders
// themselves (createdAt -> updatedAt as admin; the saga's hops from a sample of timelines),
// never by timing polls. Run directly it starts its own shop:
//   node scripts/bench/checkout.ts
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot, type ProcessGroup, pollUntil } from '@shop/devkit/process';
import type { TestShop } from '@shop/devkit/testing';
import { resolveVegeta } from '@shop/devkit/toolchain';
import { assertLoopback, percentile } from './load.ts';
import { groupTrees, machineCpu, processTable } from './proc.ts';
import { benchAdmin, createProducts, numberList, send, startBenchShop } from './shop.ts';

export type CheckoutStep = {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  errors: number;
  /** Every non-202 answer and transport error, by code ("0" for no answer) and message. */
  errorKinds: Record<string, number>;
  /** vegeta's percentiles of every request's latency (all 202 when errors is 0). */
  p50Ms: number;
  p99Ms: number;
  /** What vegeta actually achieved: requests per second sent, and answered ones. */
  sentPerSecond: number;
  /** 202 -> confirmed/cancelled (the order's createdAt -> updatedAt), over every accepted order. */
  terminalP50Ms: number;
  terminalP99Ms: number;
  terminalMaxMs: number;
  /** Orders of this step still pending when the wait for them ran out. */
  unsettled: number;
  cancelled: number;
  /** p50/p99 of each hop of the saga, from the timelines of a sample of this step's orders. */
  hops: Record<string, { p50Ms: number; p99Ms: number }>;
  hopSample: number;
  /** CPU time each process of the shop spent per accepted checkout, busiest first, while the step ran and settled. */
  cpuMsPerCheckout: Array<{ name: string; ms: number }>;
  /** How busy the whole machine was meanwhile (1 = every core), the shop and anything else. */
  machineBusy: number;
  /** The part of the machine's CPU time the shop's processes used. */
  shopShare: number;
};

type OrderView = {
  id: string;
  status: 'pending' | 'confirmed' | 'cancelled';
  createdAt: string;
  updatedAt: string;
};
type Timeline = { items: Array<{ step: string; at: string }> };
type VegetaResult = { code: number; error: string; body: string; latency: number };
type VegetaReport = {
  requests: number;
  rate: number;
  throughput: number;
  latencies: { '50th': number; '99th': number };
  status_codes: Record<string, number>;
  errors: string[] | null;
};

const bound = 1_000;

/** vegeta's output; run without blocking, so steps on two shops can run at once. */
export function vegeta(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`vegeta ${args[0]} failed (${error.code}): ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** CPU ms of each process the group runs, and of the whole machine, at one moment. */
export type CpuSnapshot = { group: Map<string, number>; machine: { busy: number; total: number } };

export function cpuSnapshot(group: ProcessGroup): CpuSnapshot {
  const table = processTable();
  const byName = new Map<string, number>();
  for (const [name, tree] of groupTrees(group, table))
    byName.set(
      name,
      tree.reduce((sum, pid) => sum + (table.get(pid)?.cpuMs ?? 0), 0),
    );
  return { group: byName, machine: machineCpu() };
}

/** Where the CPU went between two snapshots, per accepted checkout. */
function cpuFigures(
  before: CpuSnapshot,
  after: CpuSnapshot,
  accepted: number,
): Pick<CheckoutStep, 'cpuMsPerCheckout' | 'machineBusy' | 'shopShare'> {
  const spent = (name: string, ms: number) => ms - (before.group.get(name) ?? ms);
  const machineBusy = after.machine.busy - before.machine.busy;
  return {
    cpuMsPerCheckout: [...after.group]
      .map(([name, ms]) => ({ name, ms: spent(name, ms) / Math.max(1, accepted) }))
      .sort((a, b) => b.ms - a.ms),
    machineBusy: machineBusy / (after.machine.total - before.machine.total),
    shopShare: [...after.group].reduce((sum, [name, ms]) => sum + spent(name, ms), 0) / machineBusy,
  };
}

async function login(shop: TestShop, email: string, password: string): Promise<string> {
  const res = await send(shop, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** Products with stock enough that every order the bench can send is confirmed. */
async function stockedProducts(
  shop: TestShop,
  adminToken: string,
  count: number,
  stock: number,
): Promise<string[]> {
  const ids = await createProducts(shop, adminToken, {
    count,
    stock,
    label: (i) => ({
      sku: `CHECKOUT-BENCH-${randomUUID().slice(0, 8)}-${i}`,
      name: `Checkout bench ${i}`,
    }),
  });
  await pollUntil(
    async () => {
      for (const id of ids) {
        const res = await send(shop, 'GET', `/api/v1/products/${id}/stock`, { token: adminToken });
        if (!res.ok || ((await res.json()) as { available: number }).available !== stock)
          return undefined;
      }
      return true;
    },
    { timeoutMs: 60_000, what: 'inventory to open the bench products’ stock' },
  );
  return ids;
}

/** Every order an admin sees, newest first, until (and excluding) those created before `since`. */
async function ordersSince(shop: TestShop, adminToken: string, since: number) {
  const found: OrderView[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query: string = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await send(shop, 'GET', `/api/v1/admin/orders?${query}`, { token: adminToken });
    if (!res.ok) throw new Error(`admin orders answered ${res.status}`);
    const page = (await res.json()) as { items: OrderView[]; nextCursor: string | null };
    for (const order of page.items) {
      if (Date.parse(order.createdAt) < since) return found;
      found.push(order);
    }
    if (!page.nextCursor) return found;
    cursor = page.nextCursor;
  }
}

async function pendingCount(shop: TestShop, adminToken: string): Promise<number> {
  const res = await send(shop, 'GET', '/api/v1/admin/orders?status=pending&limit=100', {
    token: adminToken,
  });
  if (!res.ok) throw new Error(`admin orders answered ${res.status}`);
  return ((await res.json()) as { items: unknown[] }).items.length;
}

/** One vegeta target per checkout, each its own Idempotency-Key, the products in turn. */
function checkoutTargets(
  url: string,
  customerToken: string,
  productIds: string[],
  count: number,
): string {
  const targets = Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify({
      items: [{ productId: productIds[i % productIds.length], quantity: 1 }],
      paymentMethod: 'pm_card_visa',
    });
    return JSON.stringify({
      method: 'POST',
      url,
      body: Buffer.from(body).toString('base64'),
      header: {
        Authorization: [`Bearer ${customerToken}`],
        'Content-Type': ['application/json'],
        'Idempotency-Key': [randomUUID()],
      },
    });
  });
  return `${targets.join('\n')}\n`;
}

/** vegeta sends the targets at `rate` a second for `seconds`; its report and every answer. */
async function attack(
  binary: string,
  files: { targets: string; results: string },
  rate: number,
  seconds: number,
): Promise<{ report: VegetaReport; results: VegetaResult[] }> {
  await vegeta(binary, [
    'attack',
    '-format=json',
    `-targets=${files.targets}`,
    `-rate=${rate}/1s`,
    `-duration=${seconds}s`,
    '-timeout=30s',
    `-output=${files.results}`,
  ]);
  const report = JSON.parse(await vegeta(binary, ['report', '-type=json', files.results]));
  const results = (await vegeta(binary, ['encode', '-to=json', files.results]))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as VegetaResult);
  return { report: report as VegetaReport, results };
}

/** The orders the 202s name, and every other answer counted by code and message. */
function tallyAnswers(results: VegetaResult[]): {
  acceptedIds: Set<string>;
  errors: number;
  errorKinds: Record<string, number>;
} {
  const errorKinds: Record<string, number> = {};
  const acceptedIds = new Set<string>();
  for (const result of results) {
    if (result.code === 202) {
      const order = JSON.parse(Buffer.from(result.body, 'base64').toString('utf8')) as OrderView;
      acceptedIds.add(order.id);
      continue;
    }
    const kind = `${result.code}${result.error ? ` ${result.error.slice(0, 80)}` : ''}`;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  }
  const errors = results.filter((result) => result.code !== 202).length;
  if (acceptedIds.size !== results.length - errors)
    throw new Error('two requests were answered with the same order: a key was reused');
  return { acceptedIds, errors, errorKinds };
}

/** Waits until no order is pending, for `timeoutMs` at most: what is left is reported, not waited for. */
async function settle(shop: TestShop, adminToken: string, timeoutMs: number): Promise<void> {
  const settleBy = Date.now() + timeoutMs;
  while (Date.now() < settleBy && (await pendingCount(shop, adminToken)) > 0)
    await new Promise((resolve) => setTimeout(resolve, 500));
}

/** The accepted orders as they are now; every one must exist. */
async function acceptedOrders(
  shop: TestShop,
  adminToken: string,
  since: number,
  acceptedIds: Set<string>,
): Promise<OrderView[]> {
  const orders = (await ordersSince(shop, adminToken, since)).filter((order) =>
    acceptedIds.has(order.id),
  );
  if (orders.length !== acceptedIds.size)
    throw new Error(`${acceptedIds.size} orders were accepted but ${orders.length} exist`);
  return orders;
}

/** 202 -> terminal of every settled order, and how many did not settle or were cancelled. */
function terminalFigures(
  orders: OrderView[],
): Pick<
  CheckoutStep,
  'terminalP50Ms' | 'terminalP99Ms' | 'terminalMaxMs' | 'unsettled' | 'cancelled'
> {
  const settled = orders.filter((order) => order.status !== 'pending');
  const terminal = settled
    .map((order) => Date.parse(order.updatedAt) - Date.parse(order.createdAt))
    .sort((a, b) => a - b);
  return {
    terminalP50Ms: percentile(terminal, 50),
    terminalP99Ms: percentile(terminal, 99),
    terminalMaxMs: terminal.at(-1) ?? Number.NaN,
    unsettled: orders.length - settled.length,
    cancelled: settled.filter((order) => order.status === 'cancelled').length,
  };
}

// By name, not by position: orders may hear payment.succeeded before stock.reserved. Each
// step's time is when its producer decided (the event's time), so each hop is the producer's
// outbox, the broker's delivery and the consumer's work.
const sagaChain = ['placed', 'stock_reserved', 'payment_succeeded', 'confirmed'];

/** The time of each step of one order's timeline, by step name. */
async function timelineOf(shop: TestShop, customerToken: string, orderId: string) {
  const res = await send(shop, 'GET', `/api/v1/orders/${orderId}/timeline`, {
    token: customerToken,
  });
  if (!res.ok) throw new Error(`timeline answered ${res.status}`);
  const { items } = (await res.json()) as Timeline;
  return new Map(items.map((entry) => [entry.step, Date.parse(entry.at)]));
}

/** Where the time goes: p50/p99 of each hop of the saga, from the timelines of evenly spread orders. */
async function sagaHops(
  shop: TestShop,
  customerToken: string,
  orders: OrderView[],
  hopSample: number,
): Promise<Pick<CheckoutStep, 'hops' | 'hopSample'>> {
  const settled = orders.filter((order) => order.status !== 'pending');
  const every = Math.max(1, Math.floor(settled.length / hopSample));
  const sample = settled.filter((_, i) => i % every === 0);
  const hopTimes: Record<string, number[]> = {};
  for (const order of sample) {
    const at = await timelineOf(shop, customerToken, order.id);
    for (let i = 1; i < sagaChain.length; i++) {
      const from = at.get(sagaChain[i - 1] as string);
      const to = at.get(sagaChain[i] as string);
      if (from === undefined || to === undefined) continue;
      const hop = `${sagaChain[i - 1]} -> ${sagaChain[i]}`;
      hopTimes[hop] = [...(hopTimes[hop] ?? []), to - from];
    }
  }
  const hops = Object.fromEntries(
    Object.entries(hopTimes).map(([hop, times]) => {
      times.sort((a, b) => a - b);
      return [hop, { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) }];
    }),
  );
  return { hops, hopSample: sample.length };
}

export type StepOptions = {
  binary: string;
  workDir: string;
  customerToken: string;
  adminToken: string;
  productIds: string[];
  settleTimeoutMs: number;
  hopSample: number;
};

/**
 * One step: `rate` checkouts a second for `seconds`, each with its own Idempotency-Key, then
 * a wait (bounded) until no order is pending, then the orders' own timestamps.
 */
export async function runStep(
  shop: TestShop,
  options: StepOptions,
  rate: number,
  seconds: number,
): Promise<CheckoutStep> {
  const url = `${shop.gatewayUrl}/api/v1/orders`;
  assertLoopback(url);
  const files = {
    targets: join(options.workDir, `targets-${rate}.jsonl`),
    results: join(options.workDir, `results-${rate}.bin`),
  };
  const count = Math.round(rate * seconds);
  writeFileSync(
    files.targets,
    checkoutTargets(url, options.customerToken, options.productIds, count),
  );

  const since = Date.now() - 1_000;
  const cpuBefore = cpuSnapshot(shop.group);
  const { report, results } = await attack(options.binary, files, rate, seconds);
  const { acceptedIds, errors, errorKinds } = tallyAnswers(results);
  await settle(shop, options.adminToken, options.settleTimeoutMs);
  const cpuAfter = cpuSnapshot(shop.group);
  const orders = await acceptedOrders(shop, options.adminToken, since, acceptedIds);

  return {
    rate,
    seconds,
    sent: report.requests,
    accepted: acceptedIds.size,
    errors,
    errorKinds,
    p50Ms: report.latencies['50th'] / 1e6,
    p99Ms: report.latencies['99th'] / 1e6,
    sentPerSecond: report.rate,
    ...terminalFigures(orders),
    ...(await sagaHops(shop, options.customerToken, orders, options.hopSample)),
    ...cpuFigures(cpuBefore, cpuAfter, acceptedIds.size),
  };
}

export const meetsBound = (step: CheckoutStep) =>
  step.errors === 0 && step.unsettled === 0 && step.terminalP99Ms <= bound;

/** Far past the bound: the shop is saturated, and higher rates would only queue more. */
const saturated = (step: CheckoutStep) =>
  step.unsettled > 0 || step.errors > step.sent * 0.05 || step.terminalP99Ms > 5 * bound;

/** A new customer, signed up and logged in; its access token. */
async function newCustomer(shop: TestShop): Promise<string> {
  const customer = {
    email: `checkout-bench-${randomUUID().slice(0, 8)}@example.com`,
    password: 'checkout bench password',
  };
  const registered = await send(shop, 'POST', '/api/v1/auth/register', {
    body: { ...customer, name: 'Checkout bench' },
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}`);
  return login(shop, customer.email, customer.password);
}

/**
 * What every step on `shop` shares: a customer, 10 products stocked for `maxOrders`, a
 * folder for vegeta's files (the caller removes `workDir`).
 */
export async function prepareSteps(
  shop: TestShop,
  admin: { email: string; password: string },
  options: { maxOrders: number; settleTimeoutMs?: number; hopSample?: number },
): Promise<StepOptions> {
  const binary = resolveVegeta(findRepoRoot(import.meta.dirname));
  const adminToken = await login(shop, admin.email, admin.password);
  const customerToken = await newCustomer(shop);
  return {
    binary,
    workDir: mkdtempSync(join(tmpdir(), 'shop-bench-checkout-')),
    customerToken,
    adminToken,
    productIds: await stockedProducts(shop, adminToken, 10, options.maxOrders),
    settleTimeoutMs: options.settleTimeoutMs ?? 60_000,
    hopSample: options.hopSample ?? 40,
  };
}

/**
 * Steps the checkout rate up through `rates`, `seconds` each after a short warm-up, and
 * stops early once a step is far past the bound (the shop saturated: higher rates only
 * queue more), so the whole run stays bounded in count and time.
 */
export async function benchCheckouts(
  shop: TestShop,
  admin: { email: string; password: string },
  options: { rates: number[]; seconds: number; settleTimeoutMs?: number; hopSample?: number },
): Promise<CheckoutStep[]> {
  const maxOrders = options.rates.reduce((sum, rate) => sum + rate * options.seconds, 0) + 100;
  const stepOptions = await prepareSteps(shop, admin, { ...options, maxOrders });
  try {
    await runStep(shop, stepOptions, 5, 2); // warm-up: connections, pools, JIT; not reported
    const steps: CheckoutStep[] = [];
    for (const rate of options.rates) {
      const step = await runStep(shop, stepOptions, rate, options.seconds);
      steps.push(step);
      if (saturated(step)) break;
    }
    return steps;
  } finally {
    rmSync(stepOptions.workDir, { recursive: true, force: true });
  }
}

const ms = (value: number) => `${Number.isFinite(value) ? value.toFixed(1) : '-'}`.padStart(7);

export function formatCheckouts(steps: CheckoutStep[], bareHopP99Ms: number): string {
  const lines: string[] = [];
  for (const s of steps) {
    lines.push(
      `${`checkout at ${s.rate}/s for ${s.seconds} s`.padEnd(30)} sent ${String(s.sent).padStart(4)} (${s.sentPerSecond.toFixed(1)}/s)   202 p50 ${ms(s.p50Ms)} ms  p99 ${ms(s.p99Ms)} ms   errors ${s.errors}   202->terminal p50 ${ms(s.terminalP50Ms)} ms  p99 ${ms(s.terminalP99Ms)} ms  max ${ms(s.terminalMaxMs)} ms${s.unsettled ? `   ${s.unsettled} still pending` : ''}${s.cancelled ? `   ${s.cancelled} cancelled` : ''}   ${meetsBound(s) ? 'ok' : 'MISSED'}`,
    );
    for (const [kind, n] of Object.entries(s.errorKinds)) lines.push(`    error ${kind}: ${n}`);
    lines.push(
      `    saga hops (p50 / p99 ms, ${s.hopSample} orders): ${Object.entries(s.hops)
        .map(([hop, t]) => `${hop} ${t.p50Ms.toFixed(0)} / ${t.p99Ms.toFixed(0)}`)
        .join(';  ')}`,
    );
    const cpuTotal = s.cpuMsPerCheckout.reduce((sum, row) => sum + row.ms, 0);
    lines.push(
      `    cpu per checkout ${cpuTotal.toFixed(1)} ms (machine ${(s.machineBusy * 100).toFixed(0)}% busy, the shop ${(s.shopShare * 100).toFixed(0)}% of that): ${s.cpuMsPerCheckout
        .filter((row) => row.ms >= 0.5)
        .map((row) => `${row.name} ${row.ms.toFixed(1)}`)
        .join(', ')}`,
    );
  }
  const passing = steps.filter(meetsBound);
  const best = passing.reduce<CheckoutStep | undefined>(
    (top, s) => (!top || s.rate > top.rate ? s : top),
    undefined,
  );
  lines.push('');
  if (best) {
    lines.push(
      `${'highest checkout rate within bounds'.padEnd(44)} ${best.rate}/s (0 errors, p99 202->terminal ${best.terminalP99Ms.toFixed(0)} ms <= ${bound} ms)   202 p99 ${best.p99Ms.toFixed(1)} ms`,
    );
    lines.push(
      `${'checkout 202 p99 vs bare hop p99'.padEnd(44)} ${(best.p99Ms / bareHopP99Ms).toFixed(2)}x (${best.p99Ms.toFixed(1)} ms vs ${bareHopP99Ms.toFixed(1)} ms)`,
    );
  } else {
    lines.push(`${'highest checkout rate within bounds'.padEnd(44)} none of the steps`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { runLoad } = await import('./load.ts');
  const shop = await startBenchShop();
  try {
    const viaDapr = await runLoad(
      { url: `${shop.gatewayUrl}/.well-known/jwks.json` },
      { concurrency: 8, seconds: 5 },
    );
    const steps = await benchCheckouts(shop, benchAdmin, {
      rates: numberList(process.env.BENCH_CHECKOUT_RATES ?? '10,20,30,50,70,100'),
      seconds: Number(process.env.BENCH_CHECKOUT_SECONDS ?? 5),
    });
    console.log(`bare hop p50 ${viaDapr.p50Ms.toFixed(2)} ms  p99 ${viaDapr.p99Ms.toFixed(2)} ms`);
    console.log(formatCheckouts(steps, viaDapr.p99Ms));
  } finally {
    await shop.stop();
  }
}

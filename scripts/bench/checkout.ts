// Checkouts at a constant arrival rate: vegeta sends POST /api/v1/orders on schedule whether
// or not earlier ones were answered (an open model, as real customers arrive), stepping the
// rate up. For each step: vegeta's own latency percentiles of the 202, the errors, and how
// long each order took from its 202 to its terminal state, read afterwards from the orders
// themselves (createdAt -> updatedAt as admin; the saga's hops from a sample of timelines),
// never by timing polls. Run directly it starts its own shop:
//   node scripts/bench/checkout.ts
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot, type ProcessGroup, pollUntil } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { resolveVegeta } from '@shop/devkit/toolchain';

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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function vegeta(binary: string, args: string[], input?: string): string {
  const result = spawnSync(binary, args, {
    encoding: 'utf8',
    input,
    maxBuffer: 1 << 30,
    timeout: 120_000,
  });
  if (result.status !== 0)
    throw new Error(`vegeta ${args[0]} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

const ticksPerSecond = 100; // USER_HZ on Linux

/** utime + stime, in ms, of every live process, and each one's parent. */
function cpuTable(): Map<number, { ppid: number; ms: number }> {
  const table = new Map<number, { ppid: number; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      table.set(Number(entry), { ppid: Number(fields[1]), ms: (ticks * 1000) / ticksPerSecond });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/** CPU ms of each process the group runs, summed over its tree (PostgreSQL's workers). */
function groupCpu(group: ProcessGroup): Map<string, number> {
  const table = cpuTable();
  const byName = new Map<string, number>();
  for (const name of group.names()) {
    const root = group.pidOf(name);
    if (root === undefined) continue;
    const tree = [root];
    for (let i = 0; i < tree.length; i++)
      for (const [pid, row] of table) if (row.ppid === tree[i]) tree.push(pid);
    byName.set(
      name,
      tree.reduce((sum, pid) => sum + (table.get(pid)?.ms ?? 0), 0),
    );
  }
  return byName;
}

/** Busy and total CPU ms of the whole machine so far (/proc/stat, every core). */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / ticksPerSecond, total: (total * 1000) / ticksPerSecond };
}

/**
 * shop.send, tried again (up to 3 times) when the connection fails before any answer: a
 * pooled keep-alive connection the server closed while idle fails the next request with
 * "other side closed", though the request never reached the server.
 */
async function send(shop: TestShop, ...args: Parameters<TestShop['send']>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await shop.send(...args);
    } catch (error) {
      if (!(error instanceof TypeError) || attempt >= 3) throw error;
    }
  }
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
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await send(shop, 'POST', '/api/v1/products', {
      token: adminToken,
      body: {
        sku: `CHECKOUT-BENCH-${randomUUID().slice(0, 8)}-${i}`,
        name: `Checkout bench ${i}`,
        category: 'bench',
        price: 1_000,
        currency: 'USD',
        stock,
      },
    });
    if (res.status !== 201) throw new Error(`product create answered ${res.status}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
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

/**
 * One step: `rate` checkouts a second for `seconds`, each with its own Idempotency-Key, then
 * a wait (bounded) until no order is pending, then the orders' own timestamps.
 */
async function runStep(
  shop: TestShop,
  options: {
    binary: string;
    workDir: string;
    customerToken: string;
    adminToken: string;
    productIds: string[];
    rate: number;
    seconds: number;
    settleTimeoutMs: number;
    hopSample: number;
  },
): Promise<CheckoutStep> {
  const { rate, seconds, binary, workDir } = options;
  const url = `${shop.gatewayUrl}/api/v1/orders`;
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error('load is only ever sent to loopback');

  // The targets up front: one per request vegeta will send, each its own key and product.
  const count = Math.round(rate * seconds);
  const targets: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      items: [{ productId: options.productIds[i % options.productIds.length], quantity: 1 }],
      paymentMethod: 'pm_card_visa',
    });
    targets.push(
      JSON.stringify({
        method: 'POST',
        url,
        body: Buffer.from(body).toString('base64'),
        header: {
          Authorization: [`Bearer ${options.customerToken}`],
          'Content-Type': ['application/json'],
          'Idempotency-Key': [randomUUID()],
        },
      }),
    );
  }
  const targetsFile = join(workDir, `targets-${rate}.jsonl`);
  const resultsFile = join(workDir, `results-${rate}.bin`);
  writeFileSync(targetsFile, `${targets.join('\n')}\n`);

  const since = Date.now() - 1_000;
  const cpuBefore = groupCpu(shop.group);
  const machineBefore = machineCpu();
  vegeta(binary, [
    'attack',
    '-format=json',
    `-targets=${targetsFile}`,
    `-rate=${rate}/1s`,
    `-duration=${seconds}s`,
    '-timeout=30s',
    `-output=${resultsFile}`,
  ]);
  const report = JSON.parse(vegeta(binary, ['report', '-type=json', resultsFile])) as VegetaReport;
  const results = vegeta(binary, ['encode', '-to=json', resultsFile])
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as VegetaResult);

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

  // Bounded: what is still pending after the wait is reported, not waited for.
  const settleBy = Date.now() + options.settleTimeoutMs;
  while (Date.now() < settleBy && (await pendingCount(shop, options.adminToken)) > 0)
    await new Promise((resolve) => setTimeout(resolve, 500));
  const cpuAfter = groupCpu(shop.group);
  const machineAfter = machineCpu();

  const orders = (await ordersSince(shop, options.adminToken, since)).filter((order) =>
    acceptedIds.has(order.id),
  );
  if (orders.length !== acceptedIds.size)
    throw new Error(`${acceptedIds.size} orders were accepted but ${orders.length} exist`);
  const settled = orders.filter((order) => order.status !== 'pending');
  const terminal = settled
    .map((order) => Date.parse(order.updatedAt) - Date.parse(order.createdAt))
    .sort((a, b) => a - b);

  // Where the time goes: each hop of the saga, from the timelines of evenly spread orders.
  const sample = settled.filter(
    (_, i) => i % Math.max(1, Math.floor(settled.length / options.hopSample)) === 0,
  );
  const hopTimes: Record<string, number[]> = {};
  for (const order of sample) {
    const res = await send(shop, 'GET', `/api/v1/orders/${order.id}/timeline`, {
      token: options.customerToken,
    });
    if (!res.ok) throw new Error(`timeline answered ${res.status}`);
    const at = new Map(
      ((await res.json()) as Timeline).items.map((entry) => [entry.step, Date.parse(entry.at)]),
    );
    // By name, not by position: orders may hear payment.succeeded before stock.reserved.
    // Each step's time is when its producer decided (the event's time), so each hop is the
    // producer's outbox, the broker's delivery and the consumer's work.
    const chain = ['placed', 'stock_reserved', 'payment_succeeded', 'confirmed'];
    for (let i = 1; i < chain.length; i++) {
      const from = at.get(chain[i - 1] as string);
      const to = at.get(chain[i] as string);
      if (from === undefined || to === undefined) continue;
      const hop = `${chain[i - 1]} -> ${chain[i]}`;
      hopTimes[hop] = [...(hopTimes[hop] ?? []), to - from];
    }
  }
  const hops = Object.fromEntries(
    Object.entries(hopTimes).map(([hop, times]) => {
      times.sort((a, b) => a - b);
      return [hop, { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) }];
    }),
  );

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
    terminalP50Ms: percentile(terminal, 50),
    terminalP99Ms: percentile(terminal, 99),
    terminalMaxMs: terminal.at(-1) ?? Number.NaN,
    unsettled: orders.length - settled.length,
    cancelled: settled.filter((order) => order.status === 'cancelled').length,
    hops,
    hopSample: sample.length,
    cpuMsPerCheckout: [...cpuAfter]
      .map(([name, ms]) => ({
        name,
        ms: (ms - (cpuBefore.get(name) ?? ms)) / Math.max(1, acceptedIds.size),
      }))
      .sort((a, b) => b.ms - a.ms),
    machineBusy:
      (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    shopShare:
      [...cpuAfter].reduce((sum, [name, ms]) => sum + ms - (cpuBefore.get(name) ?? ms), 0) /
      (machineAfter.busy - machineBefore.busy),
  };
}

export const meetsBound = (step: CheckoutStep) =>
  step.errors === 0 && step.unsettled === 0 && step.terminalP99Ms <= bound;

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
  const repoRoot = findRepoRoot(import.meta.dirname);
  const binary = resolveVegeta(repoRoot);
  const adminToken = await login(shop, admin.email, admin.password);
  const customer = {
    email: `checkout-bench-${randomUUID().slice(0, 8)}@example.com`,
    password: 'checkout bench password',
  };
  const registered = await send(shop, 'POST', '/api/v1/auth/register', {
    body: { ...customer, name: 'Checkout bench' },
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}`);
  const customerToken = await login(shop, customer.email, customer.password);
  const maxOrders = options.rates.reduce((sum, rate) => sum + rate * options.seconds, 0) + 100;
  const productIds = await stockedProducts(shop, adminToken, 10, maxOrders);

  const workDir = mkdtempSync(join(tmpdir(), 'shop-bench-checkout-'));
  const step = (rate: number, seconds: number) =>
    runStep(shop, {
      binary,
      workDir,
      customerToken,
      adminToken,
      productIds,
      rate,
      seconds,
      settleTimeoutMs: options.settleTimeoutMs ?? 60_000,
      hopSample: options.hopSample ?? 40,
    });
  try {
    await step(5, 2); // warm-up: connections, pools, JIT; not reported
    const steps: CheckoutStep[] = [];
    for (const rate of options.rates) {
      const result = await step(rate, options.seconds);
      steps.push(result);
      const saturated =
        result.unsettled > 0 ||
        result.errors > result.sent * 0.05 ||
        result.terminalP99Ms > 5 * bound;
      if (saturated) break;
    }
    return steps;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
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
  const admin = { email: 'bench-admin@example.com', password: 'bench admin password' };
  const shop = await startTestShop({
    daprLogLevel: 'error',
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  try {
    const viaDapr = await runLoad(
      { url: `${shop.gatewayUrl}/.well-known/jwks.json` },
      { concurrency: 8, seconds: 5 },
    );
    const rates = (process.env.BENCH_CHECKOUT_RATES ?? '10,20,30,50,70,100').split(',').map(Number);
    const steps = await benchCheckouts(shop, admin, {
      rates,
      seconds: Number(process.env.BENCH_CHECKOUT_SECONDS ?? 5),
    });
    console.log(`bare hop p50 ${viaDapr.p50Ms.toFixed(2)} ms  p99 ${viaDapr.p99Ms.toFixed(2)} ms`);
    console.log(formatCheckouts(steps, viaDapr.p99Ms));
  } finally {
    await shop.stop();
  }
}

// One soak: a healing shop, a constant-rate mix of shoppers through its gateway, random kills,
// then the reckoning: every acknowledged order terminal, none lost or doubled, the invariants.
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { BrokerProfile } from '@shop/devkit/brokers';
import { findRepoRoot } from '@shop/devkit/process';
import { type RunningShop, type StateStoreProfile, startShop } from '@shop/devkit/shop';
import { resolveVegeta } from '@shop/devkit/toolchain';
import { startChaos } from './chaos.ts';
import {
  affectedOperations,
  countOutcomes,
  healOf,
  operationFigures,
  percentiles,
  type Sent,
  timeline,
} from './figures.ts';
import { type Checkout, expectedRefusals, type Shopper, TrafficMix, tagOf } from './mix.ts';
import { settleOrders } from './orders.ts';
import type { Kill, SoakOptions, SoakReport } from './report-types.ts';
import { type Gateway, gatewayAt, login, registerShoppers, stockCatalog } from './shoppers.ts';
import { holdStreams } from './streams.ts';
import { attack, type VegetaResult } from './vegeta.ts';

export type SoakRun = SoakOptions & {
  shoppers: number;
  streams: number;
  /** Orders' ORDER_TTL_SECONDS in the soak's shop: the expiry every order must settle within. */
  orderTtlSeconds: number;
  dataDir: string;
  log: (line: string) => void;
};

const admin = { email: 'soak-admin@example.com', password: 'soak admin password 0123' };
const unlimited = '1000000/60s';

/**
 * The soak's shop: healing on, every service `replicas` times. Its clients are many shoppers
 * behind one address, so the per-client budgets are lifted (as a load balancer's many
 * addresses would spread them); tokens outlive the run.
 */
async function startSoakShop(run: SoakRun): Promise<RunningShop> {
  const tokenSeconds = String(Math.min(3600, Math.max(900, run.minutes * 60 + 600)));
  return startShop({
    repoRoot: findRepoRoot(),
    dataDir: run.dataDir,
    broker: run.broker as BrokerProfile,
    stateStore: run.stateStore as StateStoreProfile,
    heal: true,
    output: 'files',
    daprLogLevel: 'warn',
    ...(run.replicas > 1 && { replicas: replicasOfEveryApp(run.replicas) }),
    appEnv: {
      users: {
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        ACCESS_TOKEN_TTL_SECONDS: tokenSeconds,
      },
      gateway: {
        ACCESS_TOKEN_TTL_SECONDS: tokenSeconds,
        ...Object.fromEntries(
          ['AUTH', 'SEARCH', 'CHECKOUT', 'DEFAULT', 'UNVERIFIED'].map((b) => [
            `RATE_LIMIT_${b}`,
            unlimited,
          ]),
        ),
      },
      orders: { ORDER_TTL_SECONDS: String(run.orderTtlSeconds) },
      notifications: { STREAM_MAX_PER_USER: '20' },
    },
  });
}

function replicasOfEveryApp(replicas: number): Record<string, number> {
  const apps = [
    'gateway',
    'users',
    'catalog',
    'inventory',
    'orders',
    'payments',
    'notifications',
    'cart',
  ];
  return Object.fromEntries(apps.map((app) => [app, replicas]));
}

function gatewayUrls(shop: RunningShop): string[] {
  return Object.values(shop.apps)
    .filter((app) => app.appId === 'gateway' && app.processName)
    .map((app) => `http://127.0.0.1:${app.appPort}`);
}

/** What the load learned from the answers: acknowledged orders, and every request. */
type Ledger = {
  sent: Sent[];
  checkouts: Map<string, Checkout>;
  /** Keys vegeta actually sent (a target drawn but never sent is not a promise). */
  sentKeys: Set<string>;
  acknowledged: Map<string, { id: string; shopper: number }>;
};

const retryable = (code: number) => code === 0 || code === 409 || code === 429 || code >= 500;

function record(
  ledger: Ledger,
  mix: TrafficMix,
  result: VegetaResult,
  loadStartedAt: number,
): void {
  const { op, shopper, key } = tagOf(result.url);
  const code = result.code;
  const ok = (code >= 200 && code < 300) || (expectedRefusals[op]?.includes(code) ?? false);
  // RFC 3339 with nanoseconds: Date.parse keeps milliseconds.
  const at = Date.parse(result.timestamp.replace(/(\.\d{3})\d*/, '$1')) - loadStartedAt;
  ledger.sent.push({ op, at, latencyMs: result.latency / 1e6, code, error: result.error, ok });
  if (op === 'cart' && result.method === 'PUT') mix.cartChanged(shopper, code === 200);
  if (!key) return;
  ledger.sentKeys.add(key);
  if (code === 202) {
    const id = (JSON.parse(Buffer.from(result.body, 'base64').toString()) as { id: string }).id;
    ledger.acknowledged.set(key, { id, shopper });
    mix.acknowledged({ id, shopper });
  } else if (retryable(code) && !(op === 'cart-checkout' && code === 409)) {
    const checkout = ledger.checkouts.get(key);
    if (checkout && !ledger.acknowledged.has(key)) mix.retry(checkout);
  }
}

/** The constant-rate load, with the streams held and the kills made while it runs. */
async function runLoad(
  shop: RunningShop,
  run: SoakRun,
  world: { shoppers: Shopper[]; mix: TrafficMix; urls: string[] },
) {
  const ledger: Ledger = {
    sent: [],
    checkouts: new Map(),
    sentKeys: new Set(),
    acknowledged: new Map(),
  };
  const streams = holdStreams(world.urls, world.shoppers.slice(0, run.streams));
  const loadStartedAt = Date.now();
  const chaos = run.chaosEverySeconds
    ? startChaos(shop.group, {
        everyMs: run.chaosEverySeconds * 1000,
        seed: run.seed + 1,
        loadStartedAt,
        // The redis profile's broker is the shop's Redis; RabbitMQ's is its server, not epmd.
        broker: {
          processNames: [shop.broker.processNames[0] ?? 'redis'],
          killAt: brokerKillAt(run),
        },
        log: run.log,
      })
    : undefined;
  const vegeta = attack(
    resolveVegeta(findRepoRoot()),
    { rate: run.rate, seconds: Math.round(run.minutes * 60), timeoutSeconds: 10 },
    () => {
      const { target, checkout } = world.mix.next();
      if (checkout) ledger.checkouts.set(checkout.key, checkout);
      return target;
    },
  );
  const progress = setInterval(() => run.log(progressLine(ledger, loadStartedAt)), 30_000);
  try {
    for await (const result of vegeta.results) record(ledger, world.mix, result, loadStartedAt);
    await vegeta.finished;
  } finally {
    clearInterval(progress);
    chaos?.stop();
  }
  const durationSeconds = (Date.now() - loadStartedAt) / 1000;
  return { ledger, chaos, streams: await streams.close(), durationSeconds, loadStartedAt };
}

/** The kill (counted from 1) nearest the middle of the run: the broker's. */
function brokerKillAt(run: SoakRun): number {
  const every = run.chaosEverySeconds ?? Number.POSITIVE_INFINITY;
  return Math.max(1, Math.ceil(Math.floor((run.minutes * 60) / every) / 2));
}

function progressLine(ledger: Ledger, loadStartedAt: number): string {
  const seconds = (Date.now() - loadStartedAt) / 1000;
  const failed = ledger.sent.filter((s) => !s.ok).length;
  return `soak: ${seconds.toFixed(0)} s: ${ledger.sent.length} requests, ${failed} failed, ${ledger.acknowledged.size} orders acknowledged`;
}

/**
 * Checkouts that were sent but never acknowledged are sent again under their own key, as a
 * client that never got its answer would, until the shop answers: then every key names
 * exactly one order, and any other order of the soak's shoppers is a double. A key whose
 * attempt died with its orders replica stays in flight (409) until orders lets another
 * attempt take it over (120 s), so the client keeps trying for longer than that.
 */
async function resolveUnanswered(
  gateway: Gateway,
  ledger: Ledger,
  shoppers: Shopper[],
): Promise<number> {
  const deadline = Date.now() + 180_000;
  const unanswered = [...ledger.sentKeys].flatMap((key) => {
    const checkout = ledger.checkouts.get(key);
    return checkout && !ledger.acknowledged.has(key) ? [checkout] : [];
  });
  const answered = await Promise.all(
    unanswered.map((checkout) => sendUntilAnswered(gateway, checkout, shoppers, deadline)),
  );
  for (const [i, id] of answered.entries()) {
    const checkout = unanswered[i] as Checkout;
    if (id) ledger.acknowledged.set(checkout.key, { id, shopper: checkout.shopper });
  }
  return answered.filter((id) => id === null).length;
}

/**
 * The order's id once acknowledged; undefined when the shop refused for good (an empty
 * cart, say: no order was promised); null when it never answered before the deadline.
 */
async function sendUntilAnswered(
  gateway: Gateway,
  checkout: Checkout,
  shoppers: Shopper[],
  deadline: number,
): Promise<string | null | undefined> {
  while (Date.now() < deadline) {
    const res = await gateway
      .send('POST', checkout.path, {
        token: shoppers[checkout.shopper]?.token,
        body: JSON.parse(checkout.body),
        headers: { 'idempotency-key': checkout.key },
      })
      .catch(() => undefined);
    if (res?.status === 202) return ((await res.json()) as { id: string }).id;
    await res?.body?.cancel();
    const emptyCart = res?.status === 409 && checkout.path.includes('cart');
    if (res && (!retryable(res.status) || emptyCart)) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return null;
}

/** Dead letters each consumer holds, asked through its own sidecar. */
async function deadLetters(shop: RunningShop): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const app of Object.values(shop.apps)) {
    if (app.instance !== app.appId || counts[app.appId] !== undefined) continue;
    const res = await fetch(
      `http://127.0.0.1:${app.daprHttpPort}/v1.0/invoke/${app.appId}/method/admin/dead-letters`,
      { headers: { 'dapr-api-token': app.daprApiToken }, signal: AbortSignal.timeout(10_000) },
    ).catch(() => undefined);
    if (res?.ok) counts[app.appId] = ((await res.json()) as { items: unknown[] }).items.length;
    else await res?.body?.cancel();
  }
  return counts;
}

function machine(): SoakReport['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${process.arch}`,
  };
}

/** Runs one soak end to end and returns its report; the shop is stopped before it returns. */
export async function runSoak(run: SoakRun): Promise<SoakReport> {
  run.log(
    `soak: starting the shop (${run.broker}, ${run.replicas} of each service) in ${run.dataDir}`,
  );
  const shop = await startSoakShop(run);
  try {
    const urls = gatewayUrls(shop);
    const gateway = gatewayAt(urls[0] as string);
    const runId = randomUUID().slice(0, 8);
    const adminToken = await login(gateway, admin.email, admin.password);
    const catalog = await stockCatalog(gateway, adminToken, {
      count: 30,
      stock: 1_000_000,
      scarceStock: 25,
      runId,
    });
    const shoppers = await registerShoppers(gateway, { count: run.shoppers, runId });
    const mix = new TrafficMix(urls, shoppers, catalog, { seed: run.seed, mix: run.mix });
    run.log(`soak: ${shoppers.length} shoppers, ${run.rate} requests/s for ${run.minutes} min`);
    const startedAt = new Date().toISOString();
    const load = await runLoad(shop, run, { shoppers, mix, urls });
    run.log('soak: load over; settling every acknowledged order');
    const givenUp = await resolveUnanswered(gateway, load.ledger, shoppers);
    const settled = await settleOrders(gateway, adminToken, {
      acknowledged: [...load.ledger.acknowledged.values()].map((a) => a.id),
      shopperIds: new Set(shoppers.map((s) => s.id)),
      orderTtlSeconds: run.orderTtlSeconds,
    });
    const sent = load.ledger.sent.sort((a, b) => a.at - b.at);
    const operations = Object.keys(run.mix);
    const apps = [...new Set(Object.values(shop.apps).map((a) => a.appId))];
    const kills: Kill[] = (load.chaos?.kills ?? []).map((kill, i, all) => {
      const affected = affectedOperations(kill.process, apps, operations);
      const untilMs = all[i + 1]?.atMs ?? Number.POSITIVE_INFINITY;
      return {
        atSecond: Math.round(kill.atMs / 100) / 10,
        process: kill.process,
        restartedAfterMs: load.chaos?.restartedAfterMs(kill) ?? null,
        affected,
        ...healOf({ atMs: kill.atMs, untilMs, affected }, sent),
      };
    });
    const report: SoakReport = {
      startedAt,
      options: pickOptions(run),
      machine: machine(),
      durationSeconds: Math.round(load.durationSeconds),
      achievedRate: sent.length / load.durationSeconds,
      outcomes: countOutcomes(sent),
      overall: percentiles(sent.filter((s) => s.code > 0).map((s) => s.latencyMs)),
      operations: operationFigures(sent),
      // Whole seconds only: the last, cut short, would look like a fall in throughput.
      timeline: timeline(sent, Math.floor(load.durationSeconds)),
      kills,
      restarts: shop.group.restarts(),
      orders: settled.figures,
      invariants: settled.invariants,
      deadLetters: await deadLetters(shop),
      streams: load.streams,
      verdict: { passed: true, reasons: [] },
    };
    report.verdict = verdictOf(report, givenUp);
    return report;
  } finally {
    run.log('soak: stopping the shop');
    await shop.stop();
  }
}

function pickOptions(run: SoakRun): SoakOptions {
  const { minutes, rate, mix, broker, stateStore, replicas, chaosEverySeconds, seed } = run;
  return { minutes, rate, mix, broker, stateStore, replicas, chaosEverySeconds, seed };
}

/** Passed: nothing lost or doubled, every order settled in time, invariants, every kill healed. */
export function verdictOf(report: SoakReport, givenUp: number): SoakReport['verdict'] {
  const reasons: string[] = [];
  const { orders } = report;
  if (orders.lost.length > 0) reasons.push(`${orders.lost.length} acknowledged orders lost`);
  if (orders.doubled.length > 0)
    reasons.push(`${orders.doubled.length} orders no acknowledgment names (doubled)`);
  if (orders.overdue.length > 0)
    reasons.push(`${orders.overdue.length} orders still pending past their expiry`);
  if (report.invariants.length > 0)
    reasons.push(`${report.invariants.length} invariant violations`);
  if (givenUp > 0) reasons.push(`${givenUp} checkouts never answered, even after the load`);
  const unhealed = report.kills.filter((k) => k.restartedAfterMs === null);
  if (unhealed.length > 0)
    reasons.push(`not restarted: ${unhealed.map((k) => k.process).join(', ')}`);
  if (report.achievedRate < report.options.rate * 0.95)
    reasons.push(`rate not held: ${report.achievedRate.toFixed(1)}/s of ${report.options.rate}/s`);
  return { passed: reasons.length === 0, reasons };
}

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EventStreamReader, readEventStream, type TestShop } from '@shop/devkit/testing';
import { buildEvent } from '@shop/platform';
import { createTokenIssuer, loadSigningKeys } from '@shop/platform/auth';
import { percentile } from './load.ts';
import { measureMemory } from './memory.ts';

export type StreamsResult = {
  streams: number;
  /** Stream requests answered 503/504 (and tried again) while the streams were opening. */
  refused: number;
  /** Streams that got their notification before the deadline. */
  delivered: number;
  /** From the start of each order.confirmed publish to its event read on the stream. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the notification's createdAt (set just before its insert) to its arrival: the stream's own part. */
  fromCreatedP50Ms: number;
  fromCreatedP99Ms: number;
  /**
   * The same again, one more notification per stream, but published at a constant
   * `pacedPerSecond`: the latency of one event, where the burst above times a queue's drain.
   */
  paced: Arrivals;
  /** PSS per process on the stream's path: before the streams opened, and with all open. */
  idle: Record<string, number>;
  open: Record<string, number>;
};

// The paced pass's rate: issue 19's target checkout rate, each checkout one order.confirmed.
const pacedPerSecond = 50;

// The processes one open stream costs memory in.
const streamPath = ['gateway', 'gateway-dapr', 'notifications', 'notifications-dapr'];

function pssOfStreamPath(shop: TestShop): Record<string, number> {
  return Object.fromEntries(
    measureMemory(shop.group)
      .filter((row) => streamPath.includes(row.name))
      .map((row) => [row.name, row.pssMiB]),
  );
}

const sum = (mib: Record<string, number>) => Object.values(mib).reduce((a, b) => a + b, 0);

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type StreamUser = { userId: string; accessToken: string };

/** `count` customers with access tokens signed by the shop's own key: no sign-up's password hash in the way. */
async function streamUsers(shop: TestShop, count: number): Promise<StreamUser[]> {
  const secrets = JSON.parse(readFileSync(join(shop.dataDir, 'secrets.json'), 'utf8'));
  const keys = await loadSigningKeys(async () => secrets);
  const issuer = createTokenIssuer({
    keyring: { current: () => keys.current },
    issuer: 'urn:shop:users',
    audience: 'urn:shop:api',
    ttlSeconds: 3_600,
  });
  return Promise.all(
    Array.from({ length: count }, async () => {
      const userId = randomUUID();
      const { accessToken } = await issuer.issueAccessToken({ userId, role: 'customer' });
      return { userId, accessToken };
    }),
  );
}

/** One live stream through the gateway, started; and how many times it was refused with a 503/504 first. */
async function openStream(
  gatewayUrl: string,
  accessToken: string,
  signal: AbortSignal,
): Promise<{ stream: EventStreamReader; refusals: number }> {
  let res: Response;
  let refusals = 0;
  // A client (an EventSource) tries again after a 503/504, so the bench does too, counted.
  for (let attempt = 1; ; attempt++) {
    res = await fetch(`${gatewayUrl}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'text/event-stream' },
      signal,
    });
    if (res.status === 200 || attempt === 3 || res.status < 500) break;
    refusals++;
    await res.body?.cancel();
  }
  if (res.status !== 200) throw new Error(`stream refused: ${res.status} ${await res.text()}`);
  const stream = readEventStream(res);
  const first = await stream.next(30_000);
  if (first.kind !== 'comment') throw new Error('the stream did not start with its comment');
  return { stream, refusals };
}

type OpenStreams = {
  streams: Map<string, EventStreamReader>;
  refused: number;
  retried: Set<string>;
};

/** Every user's stream, 50 opening at a time. */
async function openStreams(
  gatewayUrl: string,
  users: StreamUser[],
  signal: AbortSignal,
): Promise<OpenStreams> {
  const open: OpenStreams = { streams: new Map(), refused: 0, retried: new Set() };
  await pool(users, 50, async ({ userId, accessToken }) => {
    const { stream, refusals } = await openStream(gatewayUrl, accessToken, signal);
    open.refused += refusals;
    if (refusals > 0) open.retried.add(userId);
    open.streams.set(userId, stream);
  });
  return open;
}

function orderConfirmed(userId: string) {
  return buildEvent(
    'order.confirmed',
    {
      orderId: randomUUID(),
      userId,
      total: 1_000,
      currency: 'USD',
      confirmedAt: new Date().toISOString(),
    },
    { source: 'orders' },
  );
}

/** Waits until `at` (performance.now()'s clock), if that is still ahead. */
const until = (at: number) => pause(Math.max(0, at - performance.now()));

/**
 * Publishes one order.confirmed per user through notifications' sidecar, 20 at a time, all
 * at once or, with `perSecond`, each at its turn of a constant rate; and times each
 * notification's arrival on its stream: from the start of its publish, and from its
 * createdAt. A stream that gets none within 60 s counts as not delivered.
 */
async function timeArrivals(
  shop: TestShop,
  users: StreamUser[],
  open: OpenStreams,
  perSecond?: number,
): Promise<Arrivals> {
  const published = new Map<string, number>();
  const latencies: number[] = [];
  const fromCreated: number[] = [];
  const arrivals = Promise.all(
    users.map(async ({ userId }) => {
      const stream = open.streams.get(userId) as EventStreamReader;
      try {
        const event = await stream.nextEvent(60_000);
        latencies.push(performance.now() - (published.get(userId) as number));
        const { createdAt } = JSON.parse(event.data) as { createdAt: string };
        fromCreated.push(Date.now() - Date.parse(createdAt));
      } catch {
        // Counted as not delivered; the log says which, for a look at the services' logs.
        console.error(
          `bench: no notification on the stream of ${userId}${open.retried.has(userId) ? ' (its open was retried)' : ''}`,
        );
      }
    }),
  );
  const start = performance.now();
  const turnOf = new Map(users.map((user, i) => [user.userId, i]));
  await pool(users, 20, async ({ userId }) => {
    if (perSecond) await until(start + ((turnOf.get(userId) ?? 0) * 1_000) / perSecond);
    const event = orderConfirmed(userId);
    published.set(userId, performance.now());
    await shop.publish(event, 'notifications');
  });
  await arrivals;
  return summarize(latencies, fromCreated);
}

type Arrivals = Pick<
  StreamsResult,
  'delivered' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'fromCreatedP50Ms' | 'fromCreatedP99Ms'
>;

function summarize(latencies: number[], fromCreated: number[]): Arrivals {
  const sorted = latencies.sort((a, b) => a - b);
  const sortedFromCreated = fromCreated.sort((a, b) => a - b);
  return {
    delivered: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    fromCreatedP50Ms: percentile(sortedFromCreated, 50),
    fromCreatedP99Ms: percentile(sortedFromCreated, 99),
  };
}

/**
 * `streams` users each open the live stream through the gateway; then one order.confirmed
 * event per user is published through notifications' sidecar, and each stream's
 * notification is timed from the start of its publish to its arrival.
 */
export async function benchStreams(
  shop: TestShop,
  options: { streams: number; settleMs?: number },
): Promise<StreamsResult> {
  if (!shop.gatewayUrl) throw new Error('the shop runs no gateway');
  const users = await streamUsers(shop, options.streams);
  await pause(options.settleMs ?? 3_000);
  const idle = pssOfStreamPath(shop);

  const abort = new AbortController();
  const open = await openStreams(shop.gatewayUrl, users, abort.signal);
  await pause(options.settleMs ?? 3_000);
  const openPss = pssOfStreamPath(shop);

  const burst = await timeArrivals(shop, users, open);
  await pause(options.settleMs ?? 3_000);
  const paced = await timeArrivals(shop, users, open, pacedPerSecond);
  abort.abort();
  await Promise.all([...open.streams.values()].map((stream) => stream.close()));
  return { streams: options.streams, refused: open.refused, ...burst, paced, idle, open: openPss };
}

export function formatStreams(result: StreamsResult, bareHopP99Ms: number): string {
  const { paced } = result;
  const perStreamKiB = (mib: number) => ((mib * 1024) / result.streams).toFixed(1);
  const byProcess = streamPath
    .map((name) => `${name} ${perStreamKiB((result.open[name] ?? 0) - (result.idle[name] ?? 0))}`)
    .join(', ');
  return [
    `${`${result.streams} open streams, one notification each`.padEnd(44)} ${result.delivered}/${result.streams} delivered, ${result.refused} opens retried after a 503/504`,
    `${'publish -> arrival on the stream'.padEnd(44)} p50 ${result.p50Ms.toFixed(1)} ms   p99 ${result.p99Ms.toFixed(1)} ms   max ${result.maxMs.toFixed(1)} ms`,
    `${'notification created -> arrival'.padEnd(44)} p50 ${result.fromCreatedP50Ms.toFixed(1)} ms   p99 ${result.fromCreatedP99Ms.toFixed(1)} ms`,
    `${`paced, ${pacedPerSecond}/s: publish -> arrival`.padEnd(44)} p50 ${paced.p50Ms.toFixed(1)} ms   p99 ${paced.p99Ms.toFixed(1)} ms   max ${paced.maxMs.toFixed(1)} ms   (${paced.delivered}/${result.streams} delivered)`,
    `${`paced, ${pacedPerSecond}/s: created -> arrival`.padEnd(44)} p50 ${paced.fromCreatedP50Ms.toFixed(1)} ms   p99 ${paced.fromCreatedP99Ms.toFixed(1)} ms`,
    `${'publish p99 vs bare hop p99'.padEnd(44)} ${(result.p99Ms / bareHopP99Ms).toFixed(1)}x (bare hop p99 ${bareHopP99Ms.toFixed(1)} ms)`,
    `${'memory per open stream (PSS)'.padEnd(44)} ${perStreamKiB(sum(result.open) - sum(result.idle))} KiB   (${sum(result.idle).toFixed(1)} -> ${sum(result.open).toFixed(1)} MiB)`,
    `${'  by process, KiB per stream'.padEnd(44)} ${byProcess}`,
  ].join('\n');
}

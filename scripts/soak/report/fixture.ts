// A made-up but realistic SoakReport for the report's tests: steady load, three kills, each
// followed by a burst of errors and slow answers that heals.
import type { Kill, SecondOfRun, SoakReport } from '../report-types.ts';

export type FixtureOptions = { seconds?: number; rate?: number; killedProcesses?: string[] };

const defaultKills = ['orders', 'orders-2-dapr', 'postgres'];

/** A deterministic pseudo-random stream, so the fixture is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function kills(seconds: number, processes: string[]): Kill[] {
  return processes.map((process, index) => {
    const atSecond = Math.round(((index + 1) * seconds) / (processes.length + 1));
    return {
      atSecond,
      process,
      restartedAfterMs: 1800 + 400 * index,
      affected: ['checkout', 'cancel'],
      firstErrorSecond: atSecond + 1,
      healMs: 2500 + 1500 * index,
    };
  });
}

function timeline(seconds: number, rate: number, killSeconds: number[]): SecondOfRun[] {
  const next = random(21);
  return Array.from({ length: seconds }, (_, second) => {
    const hurt = killSeconds.some((at) => second > at && second <= at + 4);
    const sent = rate + Math.round((next() - 0.5) * 2);
    const errors = hurt ? Math.round(sent * (0.2 + next() * 0.3)) : next() < 0.05 ? 1 : 0;
    const p50Ms = 8 + next() * 4 + (hurt ? 40 : 0);
    const p90Ms = p50Ms * 2.5;
    const p99Ms = p90Ms * (hurt ? 8 : 2.5);
    const maxMs = p99Ms * 1.4;
    return { second, sent, ok: sent - errors, errors, p50Ms, p90Ms, p99Ms, maxMs };
  });
}

export function fakeReport(options: FixtureOptions = {}): SoakReport {
  const seconds = options.seconds ?? 120;
  const rate = options.rate ?? 50;
  const killList = kills(seconds, options.killedProcesses ?? defaultKills);
  const line = timeline(
    seconds,
    rate,
    killList.map((kill) => kill.atSecond),
  );
  const sent = line.reduce((total, s) => total + s.sent, 0);
  const errors = line.reduce((total, s) => total + s.errors, 0);
  const checkouts = Math.round(sent * 0.1);
  return {
    startedAt: '2026-12-07T03:00:00.000Z',
    options: {
      minutes: seconds / 60,
      rate,
      mix: { browse: 0.4, search: 0.2, product: 0.2, cart: 0.1, checkout: 0.1 },
      broker: 'redis',
      stateStore: 'postgresql',
      replicas: 2,
      chaosEverySeconds: 30,
      seed: 21,
    },
    machine: {
      cpus: 2,
      cpuModel: 'AMD EPYC 7B13',
      memoryGiB: 8,
      node: 'v24.21.0',
      os: 'linux 6.8',
    },
    durationSeconds: seconds,
    achievedRate: sent / seconds,
    outcomes: {
      '200': sent - checkouts - errors,
      '202': checkouts,
      '503': errors - 3,
      'error:timeout': 3,
    },
    operations: [
      operation('browse', 0.4, sent, 0),
      operation('search', 0.2, sent, 0),
      operation('product', 0.2, sent, 0),
      operation('cart', 0.1, sent, 0),
      operation('checkout', 0.1, sent, errors),
    ],
    timeline: line,
    kills: killList,
    restarts: Object.fromEntries(killList.map((kill) => [kill.process, 1])),
    orders: {
      acknowledged: checkouts - errors,
      terminal: checkouts - errors,
      confirmed: checkouts - errors - 12,
      cancelled: { out_of_stock: 7, payment_declined: 5 },
      lost: [],
      doubled: [],
      overdue: [],
      settle: { p50Ms: 180, p90Ms: 420, p99Ms: 2900, maxMs: 6100 },
    },
    invariants: [],
    deadLetters: { 'orders-deadletter': 0 },
    streams: { opened: 4, reconnects: 3, events: 812 },
    verdict: { passed: true, reasons: [] },
  };
}

function operation(name: string, share: number, sent: number, errors: number) {
  const requests = Math.round(sent * share);
  return {
    name,
    requests,
    ok: requests - errors,
    errors,
    p50Ms: 9,
    p90Ms: 24,
    p99Ms: 85,
    maxMs: 900,
  };
}

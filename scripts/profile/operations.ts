// What a checkout asks of the infrastructure, counted where it is served: each sidecar's
// own metrics (its API called by the app, its calls to the app, publishes, deliveries,
// state operations), PostgreSQL's transaction and row statistics and Redis's command
// statistics. Divided into the CPU per checkout, they say what each operation costs.
import type { TestShop } from '@shop/devkit/testing';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Running totals by counter name, at one moment. */
export type OperationTotals = Map<string, number>;

// daprd's counters worth reading per checkout: what its app asked of it, what it asked of
// its app, and what it asked of the components.
const daprCounters: Record<string, string> = {
  dapr_http_server_request_count: 'sidecar API requests from apps',
  dapr_http_client_completed_count: 'requests from sidecars to apps',
  dapr_component_pubsub_egress_count: 'publishes (entries)',
  dapr_component_pubsub_ingress_count: 'deliveries',
  dapr_component_state_count: 'state store operations',
};

/** Sums every series of the named counters in a Prometheus text exposition. */
export function sumCounters(exposition: string, names: string[]): Map<string, number> {
  const sums = new Map(names.map((name) => [name, 0]));
  for (const line of exposition.split('\n')) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    const name = match?.[1];
    if (name !== undefined && sums.has(name)) {
      sums.set(name, (sums.get(name) ?? 0) + Number(match?.[2]));
    }
  }
  return sums;
}

async function sidecarTotals(shop: TestShop, totals: OperationTotals): Promise<void> {
  for (const app of Object.values(shop.apps)) {
    const res = await fetch(`http://127.0.0.1:${app.daprMetricsPort}/metrics`);
    const sums = sumCounters(await res.text(), Object.keys(daprCounters));
    for (const [name, value] of sums) {
      const label = daprCounters[name] as string;
      totals.set(label, (totals.get(label) ?? 0) + value);
    }
  }
}

async function postgresTotals(url: string, totals: OperationTotals): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      database: string;
      transactions: string;
      written: string;
    }>(
      `select datname as database, xact_commit + xact_rollback as transactions,
              tup_inserted + tup_updated + tup_deleted as written
         from pg_stat_database where datname is not null`,
    );
    const sum = (key: 'transactions' | 'written') =>
      rows.reduce((n, row) => n + Number(row[key]), 0);
    totals.set('postgres transactions', sum('transactions'));
    totals.set('postgres rows written', sum('written'));
    for (const row of rows) totals.set(`transactions in ${row.database}`, Number(row.transactions));
  } finally {
    await client.end();
  }
}

async function redisTotals(shop: TestShop, totals: OperationTotals): Promise<void> {
  const { host, port, password } = shop.redis;
  const redis = new Redis({ host, port, ...(password ? { password } : {}), lazyConnect: true });
  await redis.connect();
  try {
    const info = await redis.info('commandstats');
    const calls = [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    totals.set('redis commands', calls);
  } finally {
    redis.disconnect();
  }
}

/** The shop's operation totals now. */
export async function operationTotals(shop: TestShop): Promise<OperationTotals> {
  const totals: OperationTotals = new Map();
  await sidecarTotals(shop, totals);
  if (shop.postgres) await postgresTotals(shop.postgres.url(), totals);
  await redisTotals(shop, totals);
  return totals;
}

/** Each total's growth between two readings, per unit of work. */
export function perUnit(before: OperationTotals, after: OperationTotals, units: number) {
  return [...after].map(([name, value]) => ({
    name,
    perUnit: (value - (before.get(name) ?? 0)) / Math.max(1, units),
  }));
}

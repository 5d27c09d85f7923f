import { randomUUID } from 'node:crypto';
import { findRepoRoot, pollUntil } from '@shop/devkit/process';
import {
  createProductWithStock,
  eventFixture,
  startTestShop,
  type TestShop,
  unknownMetrics,
} from '@shop/devkit/testing';
import { type JaegerTrace, settledTrace, spansOf } from '@shop/devkit/traces';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkoutPath,
  checkoutTraceProblems,
  placeTracedCheckout,
  type TracedCheckout,
} from './support/checkout-trace.ts';
import { registerCustomer } from './support/customers.ts';

// The shop with observability on, as npm start runs it: a private Jaeger receiving every
// sidecar's spans over OTLP and a private Prometheus scraping every service and sidecar.
// One checkout through the gateway, then both are read back through their own APIs.

const repoRoot = findRepoRoot(import.meta.dirname);
let shop: TestShop;
let token: string;
let adminToken: string;
const admin = { email: 'observed-admin@example.com', password: 'admin password 0123' };

beforeAll(async () => {
  shop = await startTestShop({
    observability: true,
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  adminToken = await shop.login(admin.email, admin.password);
  token = await registerCustomer(shop, {
    email: 'observed@example.com',
    password: 'shopper password 0123',
    name: 'Observed',
  });
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

type PromResult = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function prometheusGet<T>(path: string): Promise<T> {
  const res = await fetch(`${shop.prometheus?.url}${path}`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`prometheus answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: T }).data;
}

/** Every metric name Prometheus has scraped: those with series, and those with a TYPE only. */
async function prometheusNames(): Promise<Set<string>> {
  const withSeries = await prometheusGet<string[]>('/api/v1/label/__name__/values');
  const described = await prometheusGet<Record<string, unknown>>('/api/v1/metadata');
  return new Set([...withSeries, ...Object.keys(described)]);
}

async function prometheusQuery(query: string): Promise<PromResult> {
  const path = `/api/v1/query?query=${encodeURIComponent(query)}`;
  return (await prometheusGet<{ result: PromResult }>(path)).result;
}

describe('observability under the shop', () => {
  let checkout: TracedCheckout & { productId: string };
  beforeAll(async () => {
    const product = await createProductWithStock(shop, adminToken, { sku: 'OBSERVED-1', stock: 5 });
    checkout = { ...(await placeTracedCheckout(shop, token, product.id)), productId: product.id };
  }, 90_000);

  it('lets Prometheus scrape every service and every sidecar', async () => {
    const expected = Object.values(shop.apps)
      .flatMap((app) => [app.processName, app.sidecarName])
      .filter((name): name is string => name !== undefined)
      .sort();
    const up = await pollUntil(
      async () => {
        const result = await prometheusQuery('up == 1');
        return result.length === expected.length ? result : undefined;
      },
      { what: 'every target to be up in Prometheus', timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(up.map((series) => series.metric.instance).sort()).toEqual(expected);
  });

  it("finds orders' request counters through Prometheus's query API", async () => {
    const series = await pollUntil(
      async () => {
        const result = await prometheusQuery('http_requests_total{service="orders"}');
        return result.length > 0 ? result : undefined;
      },
      { what: "orders' http_requests_total in Prometheus", timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(series[0]?.metric).toMatchObject({ job: 'services', instance: 'orders' });
  });

  it("finds the checkout's order, payment and saga-step metrics through Prometheus", async () => {
    // One checkout counted by the service that owns each fact, then scraped.
    const queries = [
      'sum(orders_placed_total)',
      'sum(orders_confirmed_total)',
      'sum(orders_revenue_minor_total)',
      'sum(payments_charges_total{outcome="succeeded"})',
      'sum(inventory_reservations_total{outcome="reserved"})',
      'sum(saga_step_duration_seconds_count{step="placed_to_confirmed"})',
    ];
    const found: Record<string, number> = {};
    await pollUntil(
      async () => {
        for (const query of queries) {
          found[query] = Number((await prometheusQuery(query))[0]?.value[1] ?? 0);
        }
        return Object.values(found).every((value) => value >= 1) ? found : undefined;
      },
      {
        what: "the checkout's business metrics in Prometheus",
        timeoutMs: 30_000,
        intervalMs: 1_000,
      },
    ).catch(() => undefined);
    for (const query of queries) expect(found[query], query).toBeGreaterThanOrEqual(1);
  });

  it('names in its dashboards and rules only metrics a real scrape of the shop exposes', async () => {
    // daprd exports a metric only once it has counted something: an event that arrives
    // before the one it depends on is redelivered (a resiliency policy at work), and a
    // product page reads catalog's cache in the state store.
    await shop.publish(eventFixture('stock.reserved', { orderId: randomUUID() }), 'inventory');
    expect((await shop.send('GET', `/api/v1/products/${checkout.productId}`)).status).toBe(200);
    // The services' metrics are described (a TYPE line) from their first scrape on, so
    // Prometheus's metadata names those nothing has counted yet too.
    let unknown: string[] = [];
    await pollUntil(
      async () => {
        unknown = unknownMetrics(repoRoot, await prometheusNames());
        return unknown.length === 0 ? unknown : undefined;
      },
      {
        what: 'every metric the dashboards name in Prometheus',
        timeoutMs: 30_000,
        intervalMs: 1_000,
      },
    ).catch(() => undefined);
    expect(unknown).toEqual([]);
  });

  it('reads the whole checkout back from Jaeger as one trace, the email included', async () => {
    const { trace, problems } = await settledTrace(
      shop.jaeger?.queryUrl ?? '',
      checkout.traceId,
      (found) => checkoutTraceProblems(found, checkout.clientSpanId),
    );
    expect(problems).toEqual([]);
    for (const service of checkoutPath) {
      expect(spansOf(trace as JaegerTrace, service, 'sidecar').length, service).toBeGreaterThan(0);
    }
  }, 90_000);
});

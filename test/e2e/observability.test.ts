import { randomBytes, randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createProductWithStock,
  startTestShop,
  type TestShop,
  waitForSettled,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from './support/customers.ts';

// The shop with observability on, as npm start runs it: a private Jaeger receiving every
// sidecar's spans over OTLP and a private Prometheus scraping every service and sidecar.
// One checkout through the gateway, then both are read back through their own APIs.

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

type JaegerSpan = {
  spanID: string;
  operationName: string;
  processID: string;
  references: Array<{ refType: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
};
type JaegerTrace = { spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> };
type PromResult = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function prometheusQuery(query: string): Promise<PromResult> {
  const url = `${shop.prometheus?.url}/api/v1/query?query=${encodeURIComponent(query)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`prometheus answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: { result: PromResult } }).data.result;
}

/** The trace as Jaeger's query API returns it, or undefined while it knows none. */
async function jaegerTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${shop.jaeger?.queryUrl}/api/traces/${traceId}`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] }).data[0];
}

/** The spans of `service` that a daprd made: Dapr marks each of its spans with `dapr.api`. */
function sidecarSpans(trace: JaegerTrace, service: string): JaegerSpan[] {
  return trace.spans.filter(
    (span) =>
      trace.processes[span.processID]?.serviceName === service &&
      span.tags.some((tag) => tag.key === 'dapr.api'),
  );
}

/** Places one order through the gateway under a trace id of the test's own, and settles it. */
async function tracedCheckout(): Promise<{ traceId: string; orderId: string }> {
  const product = await createProductWithStock(shop, adminToken, { sku: 'OBSERVED-1', stock: 5 });
  const traceId = randomBytes(16).toString('hex');
  const res = await shop.send('POST', '/api/v1/orders', {
    token,
    headers: {
      'idempotency-key': randomUUID(),
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    },
    body: { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'pm_card_visa' },
  });
  expect(res.status).toBe(202);
  const order = (await res.json()) as { id: string };
  expect((await waitForSettled(shop, token, order.id)).status).toBe('confirmed');
  return { traceId, orderId: order.id };
}

describe('observability under the shop', () => {
  let checkout: { traceId: string; orderId: string };
  beforeAll(async () => {
    checkout = await tracedCheckout();
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

  it("reads the checkout's sidecar spans back through Jaeger's API", async () => {
    const trace = await pollUntil(
      async () => {
        // Each sidecar exports its own batches: wait for both on the checkout's path.
        const found = await jaegerTrace(checkout.traceId);
        const both = found && ['gateway', 'orders'].every((app) => sidecarSpans(found, app).length);
        return both ? found : undefined;
      },
      { what: "the gateway's and orders' sidecar spans in Jaeger", timeoutMs: 30_000 },
    );
    // Joined into the checkout's trace as children of spans in it, not as roots of their own.
    const inTrace = new Set(trace.spans.map((span) => span.spanID));
    const parents = sidecarSpans(trace, 'orders').flatMap((span) =>
      span.references.filter((ref) => ref.refType === 'CHILD_OF').map((ref) => ref.spanID),
    );
    expect(parents.some((parent) => inTrace.has(parent))).toBe(true);
  });

  it("finds the services' own spans in the checkout's trace (packages/platform's tracing)", async () => {
    const ownSpans = (trace: JaegerTrace, service: string) =>
      trace.spans.filter(
        (span) =>
          trace.processes[span.processID]?.serviceName === service &&
          !span.tags.some((tag) => tag.key === 'dapr.api'),
      );
    const trace = await pollUntil(
      async () => {
        const found = await jaegerTrace(checkout.traceId);
        const both = found && ['gateway', 'orders'].every((app) => ownSpans(found, app).length);
        return both ? found : undefined;
      },
      { what: "the gateway's and orders' own spans in Jaeger", timeoutMs: 30_000 },
    );
    expect(ownSpans(trace, 'orders').length).toBeGreaterThan(0);
  });
});

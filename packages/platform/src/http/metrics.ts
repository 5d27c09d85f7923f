import { Hono } from 'hono';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export type HttpMetrics = {
  registry: Registry;
  observe(labels: { method: string; route: string; status: number }, seconds: number): void;
};

/** A registry per app (not prom-client's global one) so several apps can live in one test process. */
export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(labels, seconds) {
      const values = { ...labels, status: String(labels.status) };
      requests.inc(values);
      duration.observe(values, seconds);
    },
  };
}

/**
 * The Prometheus text an app's metrics listener serves, read without a port (tests).
 *
 * @example
 * expect(await metricsText(app)).toContain('http_requests_total');
 */
export function metricsText(app: { metricsRegistry: Registry }): Promise<string> {
  return app.metricsRegistry.metrics();
}

/**
 * A listener of its own that answers only `GET /metrics` from `registry`, as daprd serves
 * its metrics apart from the app: the app's port may be public (the gateway's), this
 * one is for the scraper only. It shares the app's registry, so the app's counters are in.
 */
export function metricsApp(registry: Registry): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    c.header('content-type', registry.contentType);
    c.header('cache-control', 'no-store');
    return c.body(await registry.metrics());
  });
  return app;
}

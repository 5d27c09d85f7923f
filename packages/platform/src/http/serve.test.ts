import { freePorts } from '@shop/devkit/process';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { createServiceApp } from './app.ts';
import { closeServer, listenService, type ServiceListeners } from './serve.ts';

const logger = createLogger({ service: 'test', write: () => {} });
const appApiToken = 'test-app-token-0123456789';
const opened: ServiceListeners[] = [];

afterAll(async () => {
  const servers = opened.flatMap(({ app, metrics }) => (metrics ? [app, metrics] : [app]));
  await Promise.all(servers.map(closeServer));
});

async function listening(metricsPort: number) {
  const [appPort = 0] = await freePorts(1);
  const app = createServiceApp({
    service: 'served',
    logger,
    appApiToken,
    isPublicPath: () => true,
  });
  const config = { APP_PORT: appPort, APP_HOST: '127.0.0.1', METRICS_PORT: metricsPort };
  const listeners = listenService({
    app,
    config: { ...config, SHUTDOWN_TIMEOUT_MS: 1_000 },
    logger,
  });
  opened.push(listeners);
  await Promise.all(
    [listeners.app, listeners.metrics].map(
      (server) => server && !server.listening && new Promise((r) => server.once('listening', r)),
    ),
  );
  return {
    app: `http://127.0.0.1:${appPort}`,
    metrics: `http://127.0.0.1:${metricsPort}`,
    listeners,
  };
}

describe('listenService', () => {
  it("serves the app's metrics on the metrics port only", async () => {
    const [metricsPort = 0] = await freePorts(1);
    const urls = await listening(metricsPort);
    expect((await fetch(`${urls.app}/healthz`)).status).toBe(200);

    const onAppPort = await fetch(`${urls.app}/metrics`);
    expect(onAppPort.status).toBe(404);
    const res = await fetch(`${urls.metrics}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // The app's own counters, from the registry the two listeners share.
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/healthz",status="200",service="served"\} 1/,
    );
    expect(text).toContain('http_requests_total{method="GET",route="/*",status="404"');

    expect((await fetch(`${urls.metrics}/healthz`)).status).toBe(404);
    expect((await fetch(`${urls.metrics}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('opens no metrics listener when METRICS_PORT is 0', async () => {
    const { listeners } = await listening(0);
    expect(listeners.metrics).toBeUndefined();
  });
});

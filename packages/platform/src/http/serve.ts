import { type ServerType, serve } from '@hono/node-server';
import type { ServiceEnv } from '../config.ts';
import type { Sidecar } from '../dapr/sidecar.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import type { ServiceApp } from './app.ts';
import { metricsApp } from './metrics.ts';

export type RunServiceOptions = {
  app: ServiceApp;
  config: Pick<ServiceEnv, 'APP_PORT' | 'APP_HOST' | 'METRICS_PORT' | 'SHUTDOWN_TIMEOUT_MS'>;
  logger: Logger;
  /** What it ends before the drain ends first; its jobs stop and its resources close once the server has drained. */
  lifecycle: Pick<Lifecycle, 'beginDrain' | 'close'>;
  /** Its calls to other apps (per-callee breakers, their failures) are served with the app's metrics. */
  sidecar: Pick<Sidecar, 'registerMetrics'>;
};

export type ServiceListeners = {
  /** The app on APP_HOST:APP_PORT. */
  app: ServerType;
  /** `GET /metrics` alone on APP_HOST:METRICS_PORT; none when METRICS_PORT is 0. */
  metrics: ServerType | undefined;
};

/**
 * Opens the app's listener and, unless METRICS_PORT is 0, the metrics listener beside it:
 * the app's port may be public (the gateway's), so the metrics are never served there.
 *
 * @example
 * const { app: server, metrics } = listenService({ app, config, logger });
 */
export function listenService(
  options: Pick<RunServiceOptions, 'app' | 'config' | 'logger'>,
): ServiceListeners {
  const { app, logger, config } = options;
  const server = serve(
    { fetch: app.fetch, port: config.APP_PORT, hostname: config.APP_HOST },
    (info) => logger.info('listening', { port: info.port }),
  );
  const metrics =
    config.METRICS_PORT === 0
      ? undefined
      : serve(
          {
            fetch: metricsApp(app.metricsRegistry).fetch,
            port: config.METRICS_PORT,
            hostname: config.APP_HOST,
          },
          (info) => logger.info('serving metrics', { port: info.port }),
        );
  return { app: server, metrics };
}

/** Stops taking connections and resolves once those open have finished their requests. */
export function closeServer(server: ServerType): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}

/**
 * Serves the app on APP_HOST:APP_PORT (and its metrics on METRICS_PORT) and shuts it down gracefully on SIGTERM or SIGINT: /readyz turns red,
 * in-flight requests finish, then the lifecycle's jobs stop and its resources close; past the timeout the process exits anyway.
 * The metrics listener stays open to the end, so a scrape during the drain still answers.
 */
export function runService(options: RunServiceOptions): ServiceListeners {
  const { app, logger, config } = options;
  options.sidecar.registerMetrics(app.metricsRegistry);
  const listeners = listenService(options);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    app.markShuttingDown();
    setTimeout(() => {
      logger.error('shutdown timed out; exiting', { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    try {
      await options.lifecycle.beginDrain();
      await closeServer(listeners.app);
      await options.lifecycle.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error('shutdown failed', { error });
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return listeners;
}

import { type ServerType, serve } from '@hono/node-server';
import type { ServiceEnv } from '../config.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import type { ServiceApp } from './app.ts';

export type RunServiceOptions = {
  app: ServiceApp;
  config: Pick<ServiceEnv, 'APP_PORT' | 'APP_HOST' | 'SHUTDOWN_TIMEOUT_MS'>;
  logger: Logger;
  /** What it ends before the drain ends first; its jobs stop and its resources close once the server has drained. */
  lifecycle: Pick<Lifecycle, 'beginDrain' | 'close'>;
};

/**
 * Serves the app on APP_HOST:APP_PORT and shuts it down gracefully on SIGTERM or SIGINT: /readyz turns red,
 * in-flight requests finish, then the lifecycle's jobs stop and its resources close; past the timeout the process exits anyway.
 */
export function runService(options: RunServiceOptions): ServerType {
  const { app, logger, config } = options;
  const server = serve(
    { fetch: app.fetch, port: config.APP_PORT, hostname: config.APP_HOST },
    (info) => logger.info('listening', { port: info.port }),
  );

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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
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
  return server;
}

import type { ServerType } from '@hono/node-server';

/**
 * Keeps an idle client connection open for `keepAliveTimeoutMs` and allows one second more
 * for a request's headers. Behind a load balancer the keep-alive must outlast the
 * balancer's own idle timeout (60 s on AWS ALB), so the balancer closes idle connections
 * first and never sends a request on one the gateway is closing (a 502 for that client).
 */
export function keepConnectionsAlive(server: ServerType, keepAliveTimeoutMs: number): void {
  // An HTTP/2 server has no keep-alive timeout; the gateway serves HTTP/1.1.
  if (!('keepAliveTimeout' in server)) return;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1_000;
}

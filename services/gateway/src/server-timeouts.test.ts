import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { keepConnectionsAlive } from './server-timeouts.ts';

let server: Server | undefined;
afterEach(() => server?.close());

describe('keepConnectionsAlive', () => {
  it('outlasts a load balancer’s 60 s idle timeout, headers one second longer', () => {
    server = serve({ fetch: new Hono().fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    // Node's defaults, shorter than any balancer's idle timeout.
    expect(server.keepAliveTimeout).toBe(5_000);
    keepConnectionsAlive(server, 65_000);
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(66_000);
    expect(server.headersTimeout).toBeLessThan(server.requestTimeout);
  });
});

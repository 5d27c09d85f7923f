import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from './client-address.ts';

// A real socket, because the address comes from it: app.request() has none.
let server: ReturnType<typeof serve>;
let base: string;

beforeAll(async () => {
  const app = new Hono().get('/:hops', (c) =>
    c.text(clientAddress(c, Number(c.req.param('hops'))) ?? 'none'),
  );
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const seen = async (hops: number, forwardedFor?: string) =>
  (
    await fetch(`${base}/${hops}`, {
      headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
    })
  ).text();

describe('clientAddress', () => {
  it('is the socket peer when no proxy is trusted, whatever the client claims', async () => {
    expect(await seen(0)).toBe('127.0.0.1');
    expect(await seen(0, '6.6.6.6')).toBe('127.0.0.1');
  });

  it('is the entry the trusted proxy appended, not one the client wrote before it', async () => {
    // The client sent "6.6.6.6"; the ingress (our peer) appended the client's real address.
    expect(await seen(1, '6.6.6.6, 203.0.113.5')).toBe('203.0.113.5');
    expect(await seen(2, '6.6.6.6, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
  });
});

import type { Server } from 'node:http';
import { connect } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { answerParseErrorsAsProblems } from './client-errors.ts';

let server: Server | undefined;
afterEach(() => server?.close());

async function rawExchange(request: string): Promise<string> {
  server = serve({ fetch: new Hono().fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  answerParseErrorsAsProblems(server);
  await new Promise((resolve) => server?.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('answerParseErrorsAsProblems', () => {
  it('answers an oversized head with 431 problem+json', async () => {
    const answer = await rawExchange(
      `GET /api/v1/products?q=${'x'.repeat(20_000)} HTTP/1.1\r\nhost: shop\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('content-type: application/problem+json');
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toMatchObject({ status: 431 });
  });

  it('answers a malformed request line with 400 problem+json', async () => {
    const answer = await rawExchange('GET /\u0001 HTTP/1.1\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('content-type: application/problem+json');
  });
});

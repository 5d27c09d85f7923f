import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sidecarRequest } from './sidecar-request.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a request to the sidecar', () => {
  it('sends its body and headers and reads the whole answer, on one kept-alive connection', async () => {
    const seen: Array<{ body: string; type?: string; length?: string; port?: number }> = [];
    const base = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const { 'content-type': type, 'content-length': length } = req.headers;
        seen.push({ body, type, length, port: req.socket.remotePort });
        res.writeHead(409, { etag: '"7"' }).end('étag mismatch');
      });
    });
    const send = () =>
      sidecarRequest(`${base}/v1.0/state/cache`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '["é"]',
        timeoutMs: 2_000,
      });
    const answer = await send();
    await send();

    expect([answer.status, answer.ok, answer.text, answer.header('ETag')]).toEqual([
      409,
      false,
      'étag mismatch',
      '"7"',
    ]);
    expect(seen[0]).toMatchObject({ body: '["é"]', type: 'application/json', length: '6' });
    expect(seen[1]?.port).toBe(seen[0]?.port);
  });

  it('gives up once its time is out when the sidecar does not answer', async () => {
    const base = await serve(() => {});
    await expect(sidecarRequest(base, { headers: {}, timeoutMs: 100 })).rejects.toThrow(
      /aborted|timeout/i,
    );
  });

  it('fails when the sidecar closes the connection in the middle of its answer', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' }).write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    await expect(sidecarRequest(base, { headers: {}, timeoutMs: 2_000 })).rejects.toThrow();
  });

  it('fails when nothing listens', async () => {
    const base = await serve(() => {});
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    await expect(sidecarRequest(base, { headers: {}, timeoutMs: 2_000 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

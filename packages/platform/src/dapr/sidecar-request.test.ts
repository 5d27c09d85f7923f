import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sidecarInvoke, sidecarRequest } from './sidecar-request.ts';

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

describe('an invocation through the sidecar', () => {
  const within = (ms: number) => AbortSignal.timeout(ms);

  it('answers as a Response with every header, its body read whole', async () => {
    const seen: Array<{ method?: string; body: string; caller?: string | string[] }> = [];
    const base = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ method: req.method, body, caller: req.headers['x-caller'] });
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.writeHead(422, { 'content-type': 'application/problem+json' }).end('{"ü":1}');
      });
    });
    const bytes = new TextEncoder().encode('{"ids":["é"]}');
    const res = await sidecarInvoke(`${base}/v1.0/invoke/catalog/method/x`, {
      method: 'POST',
      headers: new Headers({ 'x-caller': 'gateway' }),
      body: bytes.buffer,
      signal: within(2_000),
    });

    expect([res.status, res.headers.get('content-type')]).toEqual([
      422,
      'application/problem+json',
    ]);
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ ü: 1 });
    expect(seen).toEqual([{ method: 'POST', body: '{"ids":["é"]}', caller: 'gateway' }]);
  });

  it('answers 204 and HEAD without a body', async () => {
    const base = await serve((req, res) => {
      res.writeHead(req.method === 'HEAD' ? 200 : 204, { 'content-length': '0' }).end();
    });
    const empty = await sidecarInvoke(base, { method: 'DELETE', signal: within(2_000) });
    const head = await sidecarInvoke(base, { method: 'HEAD', signal: within(2_000) });
    expect([empty.status, empty.body, head.status, head.body]).toEqual([204, null, 200, null]);
  });

  it('streams an event stream as it comes, and stops it when the signal ends', async () => {
    let closed: () => void = () => {};
    const serverSawClose = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: one\n\n');
      res.on('close', closed);
    });
    const call = new AbortController();
    const res = await sidecarInvoke(base, { signal: call.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();

    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
    call.abort();
    await expect(reader.read()).rejects.toThrow();
    await serverSawClose;
  });

  it('rejects with the signal when the callee does not answer in time', async () => {
    const base = await serve(() => {});
    await expect(sidecarInvoke(base, { signal: within(100) })).rejects.toThrow(/aborted|timeout/i);
  });
});

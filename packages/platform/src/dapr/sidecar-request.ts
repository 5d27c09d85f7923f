import { Agent, type IncomingMessage, request } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** The sidecar's answer, read whole: what publish, state and bindings need of it. */
export type SidecarAnswer = {
  status: number;
  ok: boolean;
  text: string;
  header(name: string): string | undefined;
};

// One pool of kept-alive connections per process: every call goes to the local sidecar,
// whose HTTP server never closes an idle connection (no idle or read timeout is set).
const agent = new Agent({ keepAlive: true });

type Outgoing = {
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  signal: AbortSignal;
};

/** Sends one request; resolves with the answer once its head has arrived. */
function open(url: string, outgoing: Outgoing): Promise<IncomingMessage> {
  const { method, body, signal } = outgoing;
  const headers =
    body === undefined
      ? outgoing.headers
      : { ...outgoing.headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent, signal }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** The rest of an answer, whole; rejects if the sidecar dies mid-answer. */
function readWhole(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    // The promise is settled already if the answer ended well.
    res.on('close', () => {
      if (!res.complete) reject(new Error('the sidecar closed its answer early'));
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

const isOk = (status: number) => status >= 200 && status < 300;

/**
 * One request to the sidecar's HTTP API over node:http, its answer read whole. Publishing,
 * state and bindings go this way rather than through `fetch`: undici's fetch cost the
 * calling process 2-3x the CPU per request (140-200 µs against 440-560 µs for a small
 * publish, client and server in one process, on the two-core development machine), and a
 * checkout makes a dozen such calls. Rejects on a connection error or once `timeoutMs` has
 * passed.
 *
 * @example
 * const answer = await sidecarRequest(url, { method: 'POST', headers, body, timeoutMs: 2_000 });
 * if (!answer.ok) throw new Error(`publish failed: ${answer.status} ${answer.text}`);
 */
export async function sidecarRequest(
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<SidecarAnswer> {
  const res = await open(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signal: AbortSignal.timeout(init.timeoutMs),
  });
  const text = (await readWhole(res)).toString('utf8');
  const status = res.statusCode ?? 0;
  return {
    status,
    ok: isOk(status),
    text,
    header: (name) => {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

// The statuses a Response must be built without a body.
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const one of [value ?? []].flat()) headers.append(name, one);
  }
  return headers;
}

function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('a call through the sidecar sends a string or bytes');
}

/**
 * A service invocation through the sidecar, answered as a fetch Response, over node:http
 * for the reason sidecarRequest gives. The answer is read whole before it resolves, except
 * an event stream's, which streams for as long as `signal` lets it.
 */
export async function sidecarInvoke(
  url: string,
  init: RequestInit & { signal: AbortSignal },
): Promise<Response> {
  const method = init.method ?? 'GET';
  const res = await open(url, {
    method,
    headers: Object.fromEntries(new Headers(init.headers)),
    body: bodyOf(init.body),
    signal: init.signal,
  });
  const headers = headersOf(res);
  const answer = { status: res.statusCode ?? 502, statusText: res.statusMessage ?? '', headers };
  if (method === 'HEAD' || nullBodyStatuses.has(answer.status)) {
    res.resume();
    return new Response(null, answer);
  }
  if (headers.get('content-type')?.startsWith('text/event-stream')) {
    const stream = Readable.toWeb(res) as WebReadableStream<Uint8Array>;
    return new Response(stream as unknown as ReadableStream<Uint8Array>, answer);
  }
  return new Response(new Uint8Array(await readWhole(res)), answer);
}

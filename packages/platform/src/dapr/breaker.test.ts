import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@shop/devkit/testing';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { problemContentType } from '../errors.ts';
import { CircuitOpenError, createCalleeBreakers } from './breaker.ts';

// A real HTTP server stands in for the callee (and, for /dapr-500, for daprd answering its
// own error); each path is one way a call can end. Every case opens a fresh breaker set.
let server: Server;
let base: string;
let closedPortBase: string;
let arrivals = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    arrivals++;
    if (req.url === '/problem-500') {
      res.writeHead(500, { 'content-type': problemContentType }).end('{"status":500}');
    } else if (req.url === '/dapr-500') {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end('{"errorCode":"ERR_DIRECT_INVOKE"}');
    } else if (req.url === '/bad-request') {
      res.writeHead(400, { 'content-type': problemContentType }).end('{"status":400}');
    } else if (req.url === '/reset') {
      req.socket.destroy();
    } else if (req.url === '/ok') {
      res.writeHead(200).end('ok');
    }
    // Any other path never answers.
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const spare = createServer().listen(0, '127.0.0.1');
  await once(spare, 'listening');
  closedPortBase = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
  spare.close();
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const policy = { consecutiveFailures: 3, openMs: 60_000 };

function breakers() {
  return createCalleeBreakers(silentLogger('breaker-test'), policy);
}

/** Makes `times` calls through `b`, each ending as it may; what each call ended with. */
async function callTimes(
  b: ReturnType<typeof breakers>,
  times: number,
  call: () => { url: string; signal?: AbortSignal },
): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  for (let i = 0; i < times; i++) {
    const { url, signal } = call();
    outcomes.push(
      await b
        .call('callee', () => fetch(url, { signal: signal ?? null }), signal)
        .then(
          (res) => res.status,
          (error: unknown) => error,
        ),
    );
  }
  return outcomes;
}

async function isOpen(b: ReturnType<typeof breakers>): Promise<boolean> {
  const before = arrivals;
  const [outcome] = await callTimes(b, 1, () => ({ url: `${base}/ok` }));
  if (outcome instanceof CircuitOpenError) {
    expect(arrivals).toBe(before);
    return true;
  }
  expect(outcome).toBe(200);
  return false;
}

describe('what opens a circuit: the callee unavailable', () => {
  it('a refused connection', async () => {
    const b = breakers();
    await callTimes(b, 3, () => ({ url: `${closedPortBase}/ok` }));
    expect(await isOpen(b)).toBe(true);
  });

  it('a connection reset before an answer', async () => {
    const b = breakers();
    const outcomes = await callTimes(b, 3, () => ({ url: `${base}/reset` }));
    expect(outcomes.every((o) => o instanceof TypeError)).toBe(true);
    expect(await isOpen(b)).toBe(true);
  });

  it("the caller's own deadline", async () => {
    const b = breakers();
    await callTimes(b, 3, () => ({ url: `${base}/hang`, signal: AbortSignal.timeout(20) }));
    expect(await isOpen(b)).toBe(true);
  });

  it("Dapr's own 5xx, which is not problem+json", async () => {
    const b = breakers();
    expect(await callTimes(b, 3, () => ({ url: `${base}/dapr-500` }))).toEqual([500, 500, 500]);
    expect(await isOpen(b)).toBe(true);
  });
});

describe("the circuits' metrics", () => {
  it('shows a circuit open while it is, and counts each opening', async () => {
    const b = breakers();
    const registry = new Registry();
    b.registerMetrics(registry);
    await callTimes(b, 1, () => ({ url: `${base}/ok` }));
    expect(await registry.getSingleMetricAsString('dapr_invoke_circuit_open')).toContain(
      'dapr_invoke_circuit_open{app_id="callee"} 0',
    );
    await callTimes(b, 3, () => ({ url: `${closedPortBase}/ok` }));
    expect(await registry.getSingleMetricAsString('dapr_invoke_circuit_open')).toContain(
      'dapr_invoke_circuit_open{app_id="callee"} 1',
    );
    expect(await registry.getSingleMetricAsString('dapr_invoke_circuit_openings_total')).toContain(
      'dapr_invoke_circuit_openings_total{app_id="callee"} 1',
    );
  });
});

describe('what never opens a circuit', () => {
  it("a service's own 500 (problem+json): answered, logged and counted", async () => {
    const b = breakers();
    const registry = new Registry();
    b.registerMetrics(registry);
    expect(await callTimes(b, 10, () => ({ url: `${base}/problem-500` }))).toEqual(
      Array(10).fill(500),
    );
    expect(await isOpen(b)).toBe(false);
    const counted = await registry.getSingleMetricAsString(
      'dapr_invoke_callee_server_errors_total',
    );
    expect(counted).toContain(
      'dapr_invoke_callee_server_errors_total{app_id="callee",status="500"} 10',
    );
  });

  it('a client error', async () => {
    const b = breakers();
    await callTimes(b, 10, () => ({ url: `${base}/bad-request` }));
    expect(await isOpen(b)).toBe(false);
  });

  it('a call its caller abandoned because its client went away, which counts for nothing', async () => {
    const b = breakers();
    await callTimes(b, 2, () => ({ url: `${closedPortBase}/ok` }));
    const abandoned = await callTimes(b, 10, () => {
      const client = new AbortController();
      setTimeout(() => client.abort('Client connection prematurely closed.'), 20);
      return { url: `${base}/hang`, signal: client.signal };
    });
    expect(abandoned).toEqual(Array(10).fill('Client connection prematurely closed.'));
    // Two failures stand: one more unavailability opens it, so the abandons neither counted
    // nor reset the count.
    await callTimes(b, 1, () => ({ url: `${closedPortBase}/ok` }));
    expect(await isOpen(b)).toBe(true);
  });
});

describe('an open circuit, on a clock the test moves', () => {
  // cockatiel times the open window with Date.now(), so faking Date alone moves it.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails fast counting down to openMs, then lets a call test the callee and closes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const b = breakers();
    await callTimes(b, 3, () => ({ url: `${closedPortBase}/ok` }));
    const ok = () => ({ url: `${base}/ok` });
    expect(await callTimes(b, 1, ok)).toEqual([expect.objectContaining({ retryAfterSeconds: 60 })]);
    vi.setSystemTime(Date.now() + 45_000);
    expect(await callTimes(b, 1, ok)).toEqual([expect.objectContaining({ retryAfterSeconds: 15 })]);
    vi.setSystemTime(Date.now() + 14_999);
    expect(await isOpen(b)).toBe(true);
    vi.setSystemTime(Date.now() + 1);
    expect(await isOpen(b)).toBe(false);
    expect(await isOpen(b)).toBe(false);
  });
});

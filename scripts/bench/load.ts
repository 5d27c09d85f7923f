import { Agent, request } from 'node:http';

export type LoadTarget = {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
};

export type LoadResult = {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
};

/** The p-th percentile of ascending `sorted`; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Load is only ever sent to loopback: never by mistake at a machine someone else runs. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error('load is only ever sent to loopback');
}

function once(agent: Agent, target: LoadTarget): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      { agent, method: target.method ?? 'GET', headers: target.headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(target.body);
  });
}

/**
 * Closed-loop load: `concurrency` clients each send their next request as soon as the
 * previous one is answered, for `seconds` after a warm-up. A function target is asked for
 * each request anew, with the client's index. Bounded in time and count, and
 * aimed only at loopback.
 */
export async function runLoad(
  target: LoadTarget | ((client: number) => LoadTarget),
  options: { concurrency: number; seconds: number; warmupSeconds?: number; expectStatus?: number },
): Promise<LoadResult> {
  const targetOf = typeof target === 'function' ? target : () => target;
  assertLoopback(targetOf(0).url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const expected = options.expectStatus ?? 200;

  const phase = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const client = async (index: number) => {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          const status = await once(agent, targetOf(index));
          if (status !== expected) errors++;
        } catch {
          errors++;
        }
        if (record) latencies.push(performance.now() - started);
      }
    };
    const began = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, (_, index) => client(index)));
    return { latencies, errors, elapsed: (performance.now() - began) / 1000 };
  };

  await phase(options.warmupSeconds ?? 1, false);
  const { latencies, errors, elapsed } = await phase(options.seconds, true);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

export function formatRow(name: string, r: LoadResult): string {
  return `${name.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}`;
}

import { pollUntil } from '@shop/devkit/process';
import { createTestTokens, recordingLogger } from '@shop/devkit/testing';
import { type Logger, metricsText } from '@shop/platform';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RateLimitBudget } from '../config.ts';
import { from, graphqlFrom, type Invoke, useTestRedis } from '../test-support.ts';
import type { RateLimitBudgets } from './index.ts';

const tokens = await createTestTokens();
const alice = await tokens.issue('alice');
const bob = await tokens.issue('bob');

const budget = (requests: number, windowSeconds = 60): RateLimitBudget => ({
  requests,
  windowSeconds,
});
const smallBudgets: RateLimitBudgets = {
  auth: budget(3),
  search: budget(2),
  checkout: budget(1),
  default: budget(4),
};

const redis = useTestRedis();

const ok: Invoke = async () => Response.json({ ok: true });

/** A gateway replica over the shared Redis; requests come from the X-Forwarded-For address. */
async function gateway(
  options: {
    budgets?: RateLimitBudgets;
    invoke?: Invoke;
    logger?: Logger;
    now?: () => number;
  } = {},
) {
  return redis.replica({
    verifier: tokens.verifier,
    invoke: options.invoke ?? ok,
    budgets: options.budgets ?? smallBudgets,
    ...(options.logger && { logger: options.logger }),
    ...(options.now && { now: options.now }),
  });
}

const login = (address: string) =>
  from(address, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });

describe('gateway rate limits', () => {
  it('counts down a budget in RateLimit headers, then refuses with 429 problem+json', async () => {
    const app = await gateway();
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await app.request('/api/v1/auth/login', login('203.0.113.1'));
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"auth";q=3;w=60');
      remaining.push(res.headers.get('ratelimit') ?? '');
    }
    expect(remaining.map((value) => value.replace(/;t=\d+$/, ''))).toEqual([
      '"auth";r=2',
      '"auth";r=1',
      '"auth";r=0',
    ]);
    for (const value of remaining) {
      const reset = Number(/;t=(\d+)$/.exec(value)?.[1]);
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
    }

    const refused = await app.request('/api/v1/auth/login', login('203.0.113.1'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toBe('"auth";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toBe(`"auth";r=0;t=${retryAfter}`);
    expect(await refused.json()).toMatchObject({
      type: 'urn:shop:problem:rate-limited',
      status: 429,
      title: 'Too many requests',
    });
  });

  it('counts a GraphQL request against the default budget, refused as 429 before it runs', async () => {
    const calls: string[] = [];
    const app = await gateway({
      budgets: { ...smallBudgets, default: budget(2) },
      invoke: async (_appId, path) => {
        calls.push(path);
        return Response.json({ items: [] });
      },
    });
    const query = () => app.request('/graphql', graphqlFrom('203.0.113.9'));
    const first = await query();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60');
    expect((await query()).status).toBe(200);
    const refused = await query();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(calls).toHaveLength(2);
  });

  it('never forwards a refused request', async () => {
    const calls: string[] = [];
    const app = await gateway({
      invoke: async (_appId, path) => {
        calls.push(path);
        return Response.json({});
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await app.request('/api/v1/auth/register', login('203.0.113.2'))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(calls).toHaveLength(3);
  });
});

describe('gateway rate limits per budget', () => {
  it('keeps auth, search, checkout and the rest in separate budgets', async () => {
    const app = await gateway();
    const address = '203.0.113.3';
    for (let i = 0; i < 3; i++) await app.request('/api/v1/auth/login', login(address));
    expect((await app.request('/api/v1/auth/login', login(address))).status).toBe(429);

    const search = await app.request('/api/v1/products?q=lamp', from(address));
    expect(search.status).toBe(200);
    expect(search.headers.get('ratelimit-policy')).toBe('"search";q=2;w=60');
    await app.request('/api/v1/products?q=chair', from(address));
    expect((await app.request('/api/v1/products?q=desk', from(address))).status).toBe(429);

    // A listing without q is no search, and a product page is neither.
    const listing = await app.request('/api/v1/products?category=home', from(address));
    expect(listing.status).toBe(200);
    expect(listing.headers.get('ratelimit-policy')).toBe('"default";q=4;w=60');
    const product = await app.request('/api/v1/products/p-1', from(address));
    expect(product.headers.get('ratelimit')).toMatch(/^"default";r=2;t=\d+$/);

    const order = () =>
      app.request('/api/v1/orders', from(address, { method: 'POST', body: '{}', token: alice }));
    const placed = await order();
    expect(placed.status).toBe(200);
    expect(placed.headers.get('ratelimit-policy')).toBe('"checkout";q=1;w=60');
    expect((await order()).status).toBe(429);
    // Reading orders is not checking out.
    const list = await app.request('/api/v1/orders', from(address, { token: alice }));
    expect(list.status).toBe(200);
    expect(list.headers.get('ratelimit-policy')).toBe('"default";q=4;w=60');
  });
});

describe('gateway rate limits per caller', () => {
  it('limits anonymous callers per address and signed-in callers per user', async () => {
    const app = await gateway();
    const browse = (address: string, token?: string) =>
      app.request('/api/v1/categories', from(address, token ? { token } : {}));

    for (let i = 0; i < 4; i++) expect((await browse('198.51.100.1')).status).toBe(200);
    expect((await browse('198.51.100.1')).status).toBe(429);
    // Another address, and a signed-in user at the spent address, have budgets of their own.
    expect((await browse('198.51.100.2')).status).toBe(200);
    expect((await browse('198.51.100.1', alice)).headers.get('ratelimit')).toMatch(
      /^"default";r=3;/,
    );

    // A user is one budget from every address; another user is not affected.
    for (let i = 0; i < 3; i++) await browse(`198.51.100.${10 + i}`, alice);
    expect((await browse('198.51.100.20', alice)).status).toBe(429);
    expect((await browse('198.51.100.20', bob)).status).toBe(200);
  });

  it('spends a bad token’s address’s unverified budget, none of the user budgets', async () => {
    const app = await gateway();
    for (let i = 0; i < 6; i++) {
      const res = await app.request('/api/v1/wishlist', from('198.51.100.30', { token: 'bad' }));
      expect(res.status).toBe(401);
      expect(res.headers.get('ratelimit-policy')).toBe('"unverified";q=60;w=60');
      expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"unverified";r=${59 - i};t=\\d+$`));
    }
    const res = await app.request('/api/v1/wishlist', from('198.51.100.30', { token: bob }));
    expect(res.headers.get('ratelimit')).toMatch(/^"default";r=3;/);
  });

  it('shares one budget between replicas over the same Redis', async () => {
    const replicas = [await gateway(), await gateway()];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const replica = replicas[i % 2];
      statuses.push((await replica?.request('/api/v1/categories', from('192.0.2.1')))?.status ?? 0);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe('gateway rate limits beside other answers', () => {
  it('keeps a service’s own RateLimit policy beside the gateway’s', async () => {
    const app = await gateway({
      invoke: async () =>
        Response.json(
          { status: 429 },
          {
            status: 429,
            headers: {
              'content-type': 'application/problem+json',
              'retry-after': '4',
              'ratelimit-policy': '"login";q=5;w=900',
              ratelimit: '"login";r=0;t=4',
            },
          },
        ),
    });
    const res = await app.request('/api/v1/auth/login', login('192.0.2.2'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('4');
    expect(res.headers.get('ratelimit-policy')).toBe('"login";q=5;w=900, "auth";q=3;w=60');
    expect(res.headers.get('ratelimit')).toMatch(/^"login";r=0;t=4, "auth";r=2;t=\d+$/);
  });

  it('adds the headers to an answer the gateway makes itself', async () => {
    const app = await gateway({ invoke: async () => new Response('bad gateway', { status: 502 }) });
    const res = await app.request('/api/v1/categories', from('192.0.2.3'));
    expect(res.status).toBe(503);
    expect(res.headers.get('ratelimit-policy')).toBe('"default";q=4;w=60');
  });
});

describe('gateway rate limits over time and outages', () => {
  it('gives a spent budget back when its window ends', async () => {
    const app = await gateway({ budgets: { ...smallBudgets, default: budget(1, 1) } });
    expect((await app.request('/api/v1/categories', from('192.0.2.4'))).status).toBe(200);
    const refused = await app.request('/api/v1/categories', from('192.0.2.4'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // The window is the counter's life in Redis, so Redis's clock, shared by every replica,
    // ends it: the counter expires within the 1 s window, and ending it now stands for that.
    const admin = redis.track(new Redis({ host: redis.server.host, port: redis.server.port }));
    const counter = 'gateway:rate-limit:default:address:192.0.2.4';
    const left = await admin.pttl(counter);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1_000);
    await admin.pexpire(counter, 0);
    expect((await app.request('/api/v1/categories', from('192.0.2.4'))).status).toBe(200);
  });

  it('lets requests through unchecked, with a warning and a metric, while Redis is down', async () => {
    const logger = recordingLogger();
    let now = 0;
    const app = await gateway({ logger, now: () => now });
    const browse = () => app.request('/api/v1/categories', from('192.0.2.5'));
    const warnings = () =>
      logger.lines.filter(
        (line) => line.msg === 'rate-limit store unavailable; requests pass unchecked',
      );
    await redis.server.pause();
    for (let i = 0; i < 6; i++) {
      const res = await browse();
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    const metrics = await metricsText(app);
    expect(metrics).toMatch(/gateway_rate_limit_unchecked_total\{budget="default"[^}]*\} 6/);
    // One warning for the outage, not one per request; the next after 10 s, with the count.
    expect(warnings()).toEqual([
      expect.objectContaining({ level: 'warn', budget: 'default', unchecked: 1 }),
    ]);
    now = 9_999;
    await browse();
    expect(warnings()).toHaveLength(1);
    now = 10_000;
    await browse();
    expect(warnings()[1]).toMatchObject({ budget: 'default', unchecked: 7 });

    // Back in service once Redis is, and the client has reconnected.
    await redis.server.start();
    const res = await pollUntil(
      async () => {
        const answer = await browse();
        return answer.headers.get('ratelimit') ? answer : undefined;
      },
      { what: 'RateLimit headers again', timeoutMs: 10_000 },
    );
    expect(res.headers.get('ratelimit')).toMatch(/^"default";r=3;/);
  }, 20_000);
});

import { createTestTokens, recordingLogger } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import {
  countingVerifier,
  from,
  type gatewayOverRedis,
  graphqlFrom,
  useTestRedis,
} from '../test-support.ts';

const tokens = await createTestTokens();
const alice = await tokens.issue('alice');
const valid = await tokens.issue('bob');
// A real token with its signature broken, as in the attack.
const forged = `${valid.slice(0, -4)}AAAA`;

const redis = useTestRedis();

async function gateway(options: Partial<Parameters<typeof gatewayOverRedis>[1]> = {}) {
  const verifier = countingVerifier(tokens.verifier);
  const app = await redis.replica({
    verifier,
    unverified: { requests: 5, windowSeconds: 60 },
    ...options,
  });
  return { app, verifier };
}

describe('the budget of failed token checks per address', () => {
  it('refuses an address’s forged tokens with 429 once it is spent, without verifying them', async () => {
    const { app, verifier } = await gateway();
    const attacker = '203.0.113.50';
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await app.request('/api/v1/wishlist', from(attacker, { token: forged }));
      statuses.push(res.status);
      if (res.status === 401) remaining.push(res.headers.get('ratelimit') ?? '');
    }
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(35).fill(429)]);
    expect(remaining.map((value) => value.replace(/;t=\d+$/, ''))).toEqual([
      '"unverified";r=4',
      '"unverified";r=3',
      '"unverified";r=2',
      '"unverified";r=1',
      '"unverified";r=0',
    ]);
    expect(verifier.verifications).toBe(5);

    const refused = await app.request('/api/v1/wishlist', from(attacker, { token: forged }));
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({
      type: 'urn:shop:problem:rate-limited',
      status: 429,
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toBe('"unverified";q=5;w=60');
    expect(refused.headers.get('ratelimit')).toBe(`"unverified";r=0;t=${retryAfter}`);
  });

  it('leaves other addresses, and requests that need no token, served', async () => {
    const { app } = await gateway();
    const attacker = '203.0.113.51';
    for (let i = 0; i < 8; i++)
      await app.request('/api/v1/orders', from(attacker, { token: forged }));
    expect((await app.request('/api/v1/orders', from(attacker, { token: forged }))).status).toBe(
      429,
    );

    // A user elsewhere, and anonymous browsing from the spent address, are served as usual.
    const elsewhere = await app.request('/api/v1/orders', from('198.51.100.7', { token: alice }));
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('ratelimit-policy')).toBe('"default";q=1000;w=60');
    expect((await app.request('/api/v1/products', from(attacker))).status).toBe(200);
    expect(
      (await app.request('/api/v1/auth/login', from(attacker, { method: 'POST' }))).status,
    ).toBe(200);
    // What it costs: a token from the spent address is refused unverified, valid or not.
    expect((await app.request('/api/v1/orders', from(attacker, { token: alice }))).status).toBe(
      429,
    );
  });

  it('spends nothing for valid tokens', async () => {
    const { app, verifier } = await gateway();
    for (let i = 0; i < 12; i++) {
      const res = await app.request('/api/v1/orders', from('198.51.100.8', { token: alice }));
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=1000;w=60');
    }
    expect(verifier.verifications).toBe(12);
  });
});

describe('the budget of failed token checks beyond REST', () => {
  it('counts a protected path asked without a token, and then refuses it with 429', async () => {
    const { app } = await gateway({ unverified: { requests: 3, windowSeconds: 60 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await app.request('/api/v1/users/me', from('203.0.113.52'))).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('guards GraphQL’s token check too, one budget with REST', async () => {
    const { app, verifier } = await gateway();
    const attacker = '203.0.113.53';
    for (let i = 0; i < 3; i++)
      await app.request('/api/v1/wishlist', from(attacker, { token: forged }));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await app.request('/graphql', graphqlFrom(attacker, forged))).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(verifier.verifications).toBe(5);
    expect((await app.request('/graphql', graphqlFrom('198.51.100.9', alice))).status).toBe(200);
  });

  it('lets token checks through unlimited, with one warning and a metric, while Redis is down', async () => {
    const logger = recordingLogger();
    const { app, verifier } = await gateway({ logger });
    await redis.server.pause();
    for (let i = 0; i < 8; i++) {
      const res = await app.request('/api/v1/wishlist', from('203.0.113.54', { token: forged }));
      expect(res.status).toBe(401);
    }
    expect(verifier.verifications).toBe(8);
    const warnings = logger.lines.filter(
      (line) => line.msg === 'rate-limit store unavailable; token checks pass unlimited',
    );
    expect(warnings).toHaveLength(1);
    expect(await app.metricsRegistry.metrics()).toMatch(
      /^gateway_unverified_unchecked_total\{[^}]*\} 8$/m,
    );
  }, 20_000);
});

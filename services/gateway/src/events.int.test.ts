import { createTestTokens, recordingLogger } from '@shop/devkit/testing';
import { buildEvent } from '@shop/platform';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { signedOutSessionKeyPrefix } from './auth/index.ts';
import { from, type gatewayOverRedis, graphqlFrom, useTestRedis } from './test-support.ts';

const tokens = await createTestTokens();

const redis = useTestRedis();
let admin: Redis;
beforeAll(() => {
  const { host, port } = redis.server;
  admin = redis.track(new Redis({ host, port, lazyConnect: true }));
});

type Gateway = Awaited<ReturnType<typeof redis.replica>>;

async function gateway(options: Partial<Parameters<typeof gatewayOverRedis>[1]> = {}) {
  return redis.replica({ verifier: tokens.verifier, ...options });
}

const address = '198.51.100.70';
const appToken = { 'dapr-api-token': 'gateway-app-token-0123456789' };

/** Dapr delivering an event body to the gateway, as its subscription does. */
const deliver = (app: Gateway, path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { ...appToken, 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(body),
  });

const signedOut = (userId: string, sessionId: string) =>
  buildEvent('user.signed_out', { userId, sessionId }, { source: 'users' });

const ordersStatus = async (app: Gateway, token: string) =>
  (await app.request('/api/v1/orders', from(address, { token }))).status;

describe('sessions ended by user.signed_out', () => {
  it("refuses every token of the session, on every replica, and no other session's", async () => {
    const [replica, other] = [await gateway(), await gateway()];
    const ended = [
      await tokens.issue('alice', 'customer', { sessionId: 'family-a' }),
      await tokens.issue('alice', 'customer', { sessionId: 'family-a' }),
    ];
    const otherSession = await tokens.issue('alice', 'customer', { sessionId: 'family-b' });
    const noSession = await tokens.issue('alice');

    const res = await deliver(replica, '/events/user.signed_out', signedOut('alice', 'family-a'));
    expect(await res.json()).toEqual({ status: 'SUCCESS' });

    for (const app of [replica, other]) {
      for (const token of ended) {
        const rest = await app.request('/api/v1/orders', from(address, { token }));
        expect(rest.status).toBe(401);
        expect(rest.headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect((await app.request('/graphql', graphqlFrom(address, token))).status).toBe(401);
      }
      expect(await ordersStatus(app, otherSession)).toBe(200);
      expect(await ordersStatus(app, noSession)).toBe(200);
      expect((await app.request('/graphql', graphqlFrom(address, otherSession))).status).toBe(200);
    }
    // As long as a token of the session can be valid: its lifetime and the minute past it.
    const ttl = await admin.ttl(`${signedOutSessionKeyPrefix}family-a`);
    expect(ttl).toBeGreaterThan(900);
    expect(ttl).toBeLessThanOrEqual(960);
  });

  it('keeps a session ended as long as ACCESS_TOKEN_TTL_SECONDS says tokens live', async () => {
    const app = await gateway({ accessTokenTtlSeconds: 300 });
    await deliver(app, '/events/user.signed_out', signedOut('bob', 'family-c'));
    const ttl = await admin.ttl(`${signedOutSessionKeyPrefix}family-c`);
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(360);
  });

  it('takes events only from Dapr, and keeps what it cannot take as dead letters in Redis', async () => {
    const [replica, other] = [await gateway(), await gateway()];
    const event = signedOut('carol', 'family-d');
    const unauthenticated = await replica.request('/events/user.signed_out', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(unauthenticated.status).toBe(401);
    expect(await admin.exists(`${signedOutSessionKeyPrefix}family-d`)).toBe(0);

    const invalid = { ...event, data: { userId: 'carol' } };
    expect(await (await deliver(replica, '/events/user.signed_out', invalid)).json()).toEqual({
      status: 'DROP',
    });
    await deliver(replica, '/dead-letters', event);
    // Listed by another replica: the letters live in the shared Redis.
    const listed = await other.request('/admin/dead-letters', { headers: appToken });
    expect((await listed.json()).items).toEqual([
      expect.objectContaining({ id: event.id, type: 'user.signed_out', event }),
    ]);
    const replay = await other.request(`/admin/dead-letters/${event.id}/replay`, {
      method: 'POST',
      headers: appToken,
    });
    expect(await replay.json()).toEqual({ id: event.id, delivery: 'SUCCESS' });
    expect(await admin.exists(`${signedOutSessionKeyPrefix}family-d`)).toBe(1);
    const after = await replica.request('/admin/dead-letters', { headers: appToken });
    expect((await after.json()).items).toEqual([]);
  });

  it('asks for redelivery while Redis is down, and lets tokens through with a warning', async () => {
    const logger = recordingLogger();
    const app = await gateway({ logger });
    const token = await tokens.issue('dave', 'customer', { sessionId: 'family-e' });
    await redis.server.pause();
    const res = await deliver(app, '/events/user.signed_out', signedOut('dave', 'family-e'));
    expect(await res.json()).toEqual({ status: 'RETRY' });
    expect(await ordersStatus(app, token)).toBe(200);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'revoked-token store unavailable; tokens pass unchecked',
      }),
    );
    await redis.server.start();
    await expect
      .poll(
        async () =>
          (await deliver(app, '/events/user.signed_out', signedOut('dave', 'family-e'))).json(),
        {
          timeout: 10_000,
        },
      )
      .toEqual({ status: 'SUCCESS' });
    expect(await ordersStatus(app, token)).toBe(401);
  }, 30_000);
});

import { createTestTokens, recordingLogger } from '@shop/devkit/testing';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  from,
  type gatewayOverRedis,
  graphqlFrom,
  type Invoke,
  useTestRedis,
} from '../test-support.ts';
import { revokedTokenKeyPrefix } from './index.ts';

const tokens = await createTestTokens();

const redis = useTestRedis();
let admin: Redis;
beforeAll(() => {
  const { host, port } = redis.server;
  admin = redis.track(new Redis({ host, port, lazyConnect: true }));
});

/** Users' logout as the gateway sees it: 204 for any refresh token, unless told otherwise. */
function usersLoggingOut(logoutStatus = 204): Invoke {
  return async (_appId, path) =>
    path === '/api/v1/auth/logout'
      ? new Response(logoutStatus === 204 ? null : '{}', {
          status: logoutStatus,
          headers: logoutStatus === 204 ? {} : { 'content-type': 'application/problem+json' },
        })
      : Response.json({ ok: true });
}

async function gateway(options: Partial<Parameters<typeof gatewayOverRedis>[1]> = {}) {
  return redis.replica({ verifier: tokens.verifier, invoke: usersLoggingOut(), ...options });
}

const address = '198.51.100.60';
const logout = (token: string) =>
  from(address, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: 'r'.repeat(43) }),
  });
const graphql = (token: string) => graphqlFrom(address, token);

describe('access tokens ended by logout', () => {
  it('refuses the logged-out token on REST and GraphQL, everywhere, until it expires', async () => {
    const [replica, other] = [await gateway(), await gateway()];
    const token = await tokens.issue('alice');
    const sameUserElsewhere = await tokens.issue('alice');
    expect((await replica.request('/api/v1/orders', from(address, { token }))).status).toBe(200);

    expect((await replica.request('/api/v1/auth/logout', logout(token))).status).toBe(204);

    for (const app of [replica, other]) {
      const rest = await app.request('/api/v1/orders', from(address, { token }));
      expect(rest.status).toBe(401);
      expect(rest.headers.get('content-type')).toBe('application/problem+json');
      expect(rest.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await rest.json()).detail).toContain('logout');
      expect((await app.request('/graphql', graphql(token))).status).toBe(401);
    }
    // Its other tokens (another login, another device) are not ended by this one's logout.
    const elsewhere = await other.request(
      '/api/v1/orders',
      from(address, { token: sameUserElsewhere }),
    );
    expect(elsewhere.status).toBe(200);

    const { jti, expiresAt } = await tokens.verifier.verify(token);
    const ttl = await admin.ttl(`${revokedTokenKeyPrefix}${jti}`);
    const untilExpiry = Math.round((expiresAt.getTime() - Date.now()) / 1000);
    expect(ttl).toBeGreaterThan(untilExpiry);
    expect(ttl).toBeLessThanOrEqual(untilExpiry + 61);
  });

  it('revokes nothing when the logout fails or its token is not valid', async () => {
    const token = await tokens.issue('bob');
    const refusing = await gateway({ invoke: usersLoggingOut(400) });
    expect((await refusing.request('/api/v1/auth/logout', logout(token))).status).toBe(400);
    expect((await refusing.request('/api/v1/orders', from(address, { token }))).status).toBe(200);

    // A forged token does not undo the logout, and counts as a failed token check.
    const app = await gateway();
    const forged = `${token.slice(0, -4)}AAAA`;
    const res = await app.request('/api/v1/auth/logout', logout(forged));
    expect(res.status).toBe(204);
    expect(res.headers.get('ratelimit')).toMatch(/"unverified";r=59;t=\d+/);
    expect(await admin.keys(`${revokedTokenKeyPrefix}*`)).toEqual([]);
    expect((await app.request('/api/v1/orders', from(address, { token }))).status).toBe(200);
  });

  it('lets tokens through unchecked, with a warning and a metric, while Redis is down', async () => {
    const logger = recordingLogger();
    const app = await gateway({ logger });
    const token = await tokens.issue('carol');
    await redis.server.pause();
    expect((await app.request('/api/v1/auth/logout', logout(token))).status).toBe(204);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'revoked-token store unavailable; a logged-out token stays valid',
      }),
    );
    for (let i = 0; i < 3; i++) {
      expect((await app.request('/api/v1/orders', from(address, { token }))).status).toBe(200);
    }
    const warnings = logger.lines.filter(
      (line) => line.msg === 'revoked-token store unavailable; tokens pass unchecked',
    );
    expect(warnings).toHaveLength(1);
    expect(await app.metricsRegistry.metrics()).toMatch(
      /^gateway_revocation_unchecked_total\{[^}]*\} 4$/m,
    );
  }, 20_000);
});

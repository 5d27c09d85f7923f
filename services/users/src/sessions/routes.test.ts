import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type VerificationCost, verificationCosts } from '../accounts/password.ts';
import { manualClock, password, uniqueEmail, useUsersApp } from '../test-support.ts';
import { purgeRefreshTokens } from './refresh-tokens.ts';
import { throttlePolicy } from './throttle.ts';

type Pair = { accessToken: string; refreshToken: string; tokenType: string; expiresIn: number };

describe.each(databaseBackends)('sessions on %s', (backend) => {
  // The login throttle's clock: it moves only when a test moves it.
  const clock = manualClock();
  const users = useUsersApp(backend, { clock: clock.now });

  const ctx = { clock, users, ...sessionHelpers(users) };

  loginCases(ctx);
  accountThrottleCases(ctx);
  addressThrottleCases(ctx);
  refreshRotationCases(ctx);
  refreshExpiryCases(ctx);
  accessAndInputCases(ctx);
});

type UsersApp = ReturnType<typeof useUsersApp>;
type Ctx = { clock: ReturnType<typeof manualClock>; users: UsersApp } & ReturnType<
  typeof sessionHelpers
>;

/** Sign-up, login and refresh as one client calls them. */
function sessionHelpers(users: UsersApp) {
  async function signUp(label = 'user') {
    const email = uniqueEmail(label);
    const res = await users.call('POST', '/api/v1/auth/register', {
      body: { email, password, name: label },
    });
    expect(res.status).toBe(201);
    return { email, id: ((await res.json()) as { id: string }).id };
  }
  const login = (email: string, pass = password, clientAddress = '192.0.2.1') =>
    users.call('POST', '/api/v1/auth/login', {
      body: { email, password: pass },
      headers: { 'x-forwarded-for': clientAddress },
    });
  const refresh = (refreshToken: string) =>
    users.call('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
  return { signUp, login, refresh };
}

function loginCases({ users, signUp, login }: Ctx) {
  it('logs in with a Bearer pair whose access token opens /users/me', async () => {
    const user = await signUp();
    const res = await login(user.email.toUpperCase());
    expect(res.status).toBe(200);
    const pair = (await res.json()) as Pair;
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(pair.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await users.call('GET', '/api/v1/users/me', { token: pair.accessToken });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, email: user.email, role: 'customer' });
  });

  it('stores refresh tokens only as hashes', async () => {
    const user = await signUp();
    const pair = (await (await login(user.email)).json()) as Pair;
    const stored = await users.get().db.selectFrom('refresh_tokens').select('token_hash').execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(pair.refreshToken);
  });

  it('answers an unknown email and a wrong password alike, at the same argon2id cost', async () => {
    const user = await signUp();
    const costs: VerificationCost[] = [];
    const record = (cost: unknown) => costs.push(cost as VerificationCost);
    verificationCosts.subscribe(record);
    try {
      const unknown = await login(uniqueEmail('nobody'), 'wrong password!!', '198.51.100.7');
      const wrong = await login(user.email, 'wrong password!!', '198.51.100.8');
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      const strip = ({ requestId, traceId, ...rest }: Problem) => rest;
      expect(strip((await unknown.json()) as Problem)).toEqual(
        strip((await wrong.json()) as Problem),
      );
    } finally {
      verificationCosts.unsubscribe(record);
    }
    // One verification each; the unknown email's (against the decoy) costs what the real
    // account's does. Without the decoy it would verify nothing and answer at once.
    // (`npm run bench` reports the time ratio itself.)
    const [decoy, real] = costs;
    expect(costs).toHaveLength(2);
    expect(real).toEqual({
      memory: 19_456,
      passes: 2,
      parallelism: 1,
      saltLength: 16,
      hashLength: 32,
    });
    expect(decoy).toEqual(real);
  });
}

function accountThrottleCases({ clock, signUp, login }: Ctx) {
  it('slows one account from one address after repeated failures, briefly', async () => {
    const user = await signUp('guessed');
    const attacker = '198.51.100.66';
    for (let i = 1; i <= throttlePolicy.pair.attempts; i++) {
      expect((await login(user.email, `guess number ${i}`, attacker)).status).toBe(401);
    }
    // The first attempt over the limit is still checked; the next one waits.
    expect((await login(user.email, 'one guess too many', attacker)).status).toBe(401);
    const blocked = await login(user.email, password, attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('content-type')).toBe('application/problem+json');
    expect(blocked.headers.get('ratelimit-policy')).toMatch(/q=\d+;w=900/);
    const wait = Number(blocked.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2);
    clock.advance(wait);
    expect((await login(user.email, password, attacker)).status).toBe(200);
    // A success starts the pair afresh: the next typo is not blocked.
    expect((await login(user.email, 'typo', attacker)).status).toBe(401);
    expect((await login(user.email, password, attacker)).status).toBe(200);
  });

  it('does not lock the owner out when someone else guesses at the account', async () => {
    const user = await signUp('owner');
    for (let i = 0; i <= throttlePolicy.pair.attempts + 1; i++) {
      await login(user.email, `attacker guess ${i}`, '203.0.113.99');
    }
    expect((await login(user.email, password, '203.0.113.99')).status).toBe(429);
    expect((await login(user.email, password, '192.0.2.200')).status).toBe(200);
  });

  it('counts a burst of parallel guesses before checking any of them', async () => {
    const user = await signUp('burst');
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        login(user.email, `parallel guess ${i}`, '198.51.100.77'),
      ),
    ).then((responses) => responses.map((r) => r.status));
    // The free attempts plus the one that crosses the limit are checked; the rest wait.
    expect(statuses.filter((s) => s === 401)).toHaveLength(throttlePolicy.pair.attempts + 1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - throttlePolicy.pair.attempts - 1);
  });
}

function addressThrottleCases({ users, signUp, login }: Ctx) {
  it('blocks a client address that tries many accounts', async () => {
    const address = '203.0.113.7';
    for (let i = 0; i <= throttlePolicy.address.attempts; i++) {
      expect((await login(uniqueEmail('spray'), 'password spray!', address)).status).toBe(401);
    }
    const blocked = await login(uniqueEmail('spray'), 'password spray!', address);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const user = await signUp();
    expect((await login(user.email, password, '203.0.113.8')).status).toBe(200);
  });

  it('lets a success that crosses a limit leave no block behind', async () => {
    const address = '203.0.113.21';
    for (let i = 0; i < throttlePolicy.address.attempts; i++) {
      expect((await login(uniqueEmail('miss'), 'not a password', address)).status).toBe(401);
    }
    const user = await signUp('lucky');
    expect((await login(user.email, password, address)).status).toBe(200);
    expect((await login(user.email, password, address)).status).toBe(200);
  });

  it('counts nothing for an attempt that a block refuses', async () => {
    const address = '203.0.113.31';
    for (let i = 0; i <= throttlePolicy.address.attempts; i++) {
      await login(uniqueEmail('spray'), 'password spray!', address);
    }
    const user = await signUp('bystander');
    for (let i = 0; i < 3; i++)
      expect((await login(user.email, password, address)).status).toBe(429);
    const counted = await users
      .get()
      .db.selectFrom('login_throttle')
      .select('key')
      .where('key', 'in', [`pair:${user.email}|${address}`, `account:${user.email}`])
      .execute();
    expect(counted).toEqual([]);
  });
}

function refreshRotationCases({ users, signUp, login, refresh }: Ctx) {
  it('rotates: a refresh spends the token and returns a new pair', async () => {
    const user = await signUp();
    const first = (await (await login(user.email)).json()) as Pair;
    const res = await refresh(first.refreshToken);
    expect(res.status).toBe(200);
    const second = (await res.json()) as Pair;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await refresh(second.refreshToken)).status).toBe(200);
  });

  it('revokes the whole family when a spent token is presented again', async () => {
    const user = await signUp();
    const first = (await (await login(user.email)).json()) as Pair;
    const second = (await (await refresh(first.refreshToken)).json()) as Pair;
    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    expect((await refresh(second.refreshToken)).status).toBe(401);
    // Another login of the same user is another family and lives on.
    const other = (await (await login(user.email)).json()) as Pair;
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('lets exactly one of several concurrent refreshes of one token succeed', async () => {
    const user = await signUp();
    const pair = (await (await login(user.email)).json()) as Pair;
    const responses = await Promise.all([1, 2, 3, 4].map(() => refresh(pair.refreshToken)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    // The losers presented a spent token, so the winner's new one died with the family.
    const winner = (await responses.find((r) => r.status === 200)?.json()) as Pair;
    expect((await refresh(winner.refreshToken)).status).toBe(401);
  });

  it('logs out: the family is revoked and an unknown token is fine', async () => {
    const user = await signUp();
    const pair = (await (await login(user.email)).json()) as Pair;
    const res = await users.call('POST', '/api/v1/auth/logout', {
      body: { refreshToken: pair.refreshToken },
    });
    expect(res.status).toBe(204);
    expect((await refresh(pair.refreshToken)).status).toBe(401);
    const unknown = await users.call('POST', '/api/v1/auth/logout', {
      body: { refreshToken: 'never-issued' },
    });
    expect(unknown.status).toBe(204);
  });
}

function refreshExpiryCases({ users, signUp, login, refresh }: Ctx) {
  it('refuses an expired refresh token and purges expired and revoked ones', async () => {
    const user = await signUp();
    const pair = (await (await login(user.email)).json()) as Pair;
    const revoked = (await (await login(user.email)).json()) as Pair;
    await users.call('POST', '/api/v1/auth/logout', {
      body: { refreshToken: revoked.refreshToken },
    });
    const { db } = users.get();
    await db
      .updateTable('refresh_tokens')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('family_id', 'in', (qb) =>
        qb
          .selectFrom('token_families')
          .select('id')
          .where('user_id', '=', user.id)
          .where('revoked_at', 'is', null),
      )
      .execute();
    expect((await refresh(pair.refreshToken)).status).toBe(401);
    await purgeRefreshTokens(db);
    const left = await db
      .selectFrom('refresh_tokens')
      .innerJoin('token_families', 'token_families.id', 'refresh_tokens.family_id')
      .where('token_families.user_id', '=', user.id)
      .select('token_hash')
      .execute();
    expect(left).toEqual([]);
  });
}

function accessAndInputCases({ users, signUp, login }: Ctx) {
  it('answers /users/me without a valid access token with 401 and a Bearer challenge', async () => {
    const user = await signUp();
    const pair = (await (await login(user.email)).json()) as Pair;
    for (const token of [undefined, pair.refreshToken, `${pair.accessToken}x`]) {
      const res = await users.call('GET', '/api/v1/users/me', token ? { token } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="shop"/);
    }
  });

  it('publishes public signing keys only', async () => {
    const res = await users.call('GET', '/.well-known/jwks.json', { caller: 'orders' });
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('rejects malformed bodies without touching the database', async () => {
    for (const body of [{}, { email: 'a@b.c' }, { refreshToken: 'x'.repeat(201) }]) {
      expect((await users.call('POST', '/api/v1/auth/refresh', { body })).status).toBe(400);
    }
    expect((await users.call('POST', '/api/v1/auth/login', { body: { email: 'x' } })).status).toBe(
      400,
    );
  });
}

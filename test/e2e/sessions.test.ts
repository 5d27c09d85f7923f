import { pollUntil } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A session's end reaches the gateway as users' `user.signed_out`: every access token of
// that session is refused from then on, on REST and GraphQL alike, and no other session's.
let shop: TestShop;
const account = { email: 'sessions@example.com', password: 'sessions password 1', name: 'S' };
type Pair = { accessToken: string; refreshToken: string };

beforeAll(async () => {
  shop = await startTestShop({ apps: ['gateway', 'users'] });
  const registered = await shop.send('POST', '/api/v1/auth/register', { body: account });
  expect(registered.status).toBe(201);
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

async function login(): Promise<Pair> {
  const res = await shop.send('POST', '/api/v1/auth/login', { body: account });
  expect(res.status).toBe(200);
  return (await res.json()) as Pair;
}

const restStatus = async (token: string) =>
  (await shop.send('GET', '/api/v1/users/me', { token })).status;

async function graphqlStatus(token: string) {
  const res = await shop.send('POST', '/graphql', { body: { query: '{ me { id } }' }, token });
  const body = (await res.json()) as { data?: { me?: { id: string } } };
  return res.status === 200 && body.data?.me?.id ? 200 : res.status;
}

describe('sessions signed out', () => {
  it("refuses a logged-out session's access tokens within 5 s; the other session goes on", async () => {
    const sessionA = await login();
    const sessionB = await login();
    // A second access token of session A, which the logout below does not carry: only the
    // session's end, not the logout's own token revocation, can refuse the first one.
    const refreshed = await shop.send('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: sessionA.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const sessionAAgain = (await refreshed.json()) as Pair;
    expect(decodeJwt(sessionAAgain.accessToken).sid).toBe(decodeJwt(sessionA.accessToken).sid);
    expect(decodeJwt(sessionB.accessToken).sid).not.toBe(decodeJwt(sessionA.accessToken).sid);
    for (const token of [sessionA.accessToken, sessionB.accessToken]) {
      expect(await restStatus(token)).toBe(200);
      expect(await graphqlStatus(token)).toBe(200);
    }

    const loggedOut = await shop.send('POST', '/api/v1/auth/logout', {
      body: { refreshToken: sessionAAgain.refreshToken },
      token: sessionAAgain.accessToken,
    });
    expect(loggedOut.status).toBe(204);

    const started = Date.now();
    await pollUntil(
      async () =>
        (await restStatus(sessionA.accessToken)) === 401 &&
        (await graphqlStatus(sessionA.accessToken)) === 401
          ? true
          : undefined,
      { what: "session A's first access token refused", timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await restStatus(sessionAAgain.accessToken)).toBe(401);
    expect(await restStatus(sessionB.accessToken)).toBe(200);
    expect(await graphqlStatus(sessionB.accessToken)).toBe(200);
  });
});

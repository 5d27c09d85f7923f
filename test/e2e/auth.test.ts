import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@shop/devkit/process';
import { createTestTokens, startTestShop, type TestShop } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import {
  parseSigningKeySet,
  rotateSigningKeySet,
  signingKeysSecretName,
} from '@shop/platform/auth';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let shop: TestShop;
const password = 'correct horse battery';
type Pair = { accessToken: string; refreshToken: string };

beforeAll(async () => {
  shop = await startTestShop();
});

afterAll(async () => {
  await shop?.stop();
});

const post = (path: string, body: unknown) =>
  shop.gateway(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function signUpAndLogin(email: string): Promise<Pair> {
  expect((await post('/api/v1/auth/register', { email, password, name: 'Auth E2E' })).status).toBe(
    201,
  );
  const res = await post('/api/v1/auth/login', { email, password });
  expect(res.status).toBe(200);
  return (await res.json()) as Pair;
}

const me = (token: string) =>
  shop.gateway('/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });

/** Logs in as a client would: a 503 (Retry-After: 1) while a sidecar comes back is retried. */
async function loginWhenAvailable(email: string): Promise<Pair> {
  return pollUntil(
    async () => {
      const res = await post('/api/v1/auth/login', { email, password });
      if (res.status === 503) return undefined;
      expect(res.status).toBe(200);
      return (await res.json()) as Pair;
    },
    { what: `a login as ${email} past the 503s`, timeoutMs: 20_000 },
  );
}

async function welcomeArrives(token: string) {
  return pollUntil(
    async () => {
      const res = await shop.gateway('/api/v1/notifications', {
        headers: { authorization: `Bearer ${token}` },
      });
      const page = (await res.json()) as { items: Array<{ type: string }> };
      return page.items.some((n) => n.type === 'welcome') ? true : undefined;
    },
    { timeoutMs: 45_000, what: 'the welcome notification' },
  );
}

describe('authentication through the gateway and sidecars', () => {
  it('registers, logs in and reads /users/me; the admin from ADMIN_EMAIL is not needed for that', async () => {
    const pair = await signUpAndLogin('ada@example.com');
    const res = await me(pair.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email: 'ada@example.com', role: 'customer' });
  });

  it('answers a device token with a login and keeps the session id (sid) through refreshes', async () => {
    await signUpAndLogin('device@example.com');
    const res = await post('/api/v1/auth/login', { email: 'device@example.com', password });
    const login = (await res.json()) as Pair & { deviceToken: string };
    expect(login.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await post('/api/v1/auth/login', {
      email: 'device@example.com',
      password,
      deviceToken: login.deviceToken,
    });
    expect(((await again.json()) as { deviceToken: string }).deviceToken).toBe(login.deviceToken);

    const refreshed = (await (await post('/api/v1/auth/refresh', login)).json()) as Pair;
    const sid = decodeJwt(login.accessToken).sid;
    expect(sid).toEqual(expect.any(String));
    expect(decodeJwt(refreshed.accessToken).sid).toBe(sid);
  });

  it('serves the public signing keys at the gateway', async () => {
    const res = await shop.gateway('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
    // The key that signs now and the next one, published before it is used.
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'OKP', alg: 'EdDSA', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('rotates refresh tokens and revokes the family on reuse', async () => {
    const first = await signUpAndLogin('rotate@example.com');
    const second = (await (await post('/api/v1/auth/refresh', first)).json()) as Pair;
    expect(second.refreshToken).toBeDefined();
    expect((await post('/api/v1/auth/refresh', first)).status).toBe(401);
    expect((await post('/api/v1/auth/refresh', second)).status).toBe(401);
  });

  it('refuses a token signed by a foreign key at the gateway, and again in the service itself', async () => {
    const foreign = await createTestTokens();
    const forged = await foreign.issue('00000000-0000-4000-8000-000000000000', 'admin');
    const atGateway = await me(forged);
    expect(atGateway.status).toBe(401);
    expect(atGateway.headers.get('www-authenticate')).toContain('invalid_token');
    // Straight to notifications through Dapr, past the gateway: it verifies for itself.
    const direct = await shop.invoke('notifications', '/api/v1/notifications', {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(direct.status).toBe(401);
  });

  it('answers a bad login with problem+json and no hint whether the email exists', async () => {
    await signUpAndLogin('known@example.com');
    const wrong = await post('/api/v1/auth/login', {
      email: 'known@example.com',
      password: 'not the password',
    });
    const unknown = await post('/api/v1/auth/login', {
      email: 'unknown@example.com',
      password: 'not the password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(((await wrong.json()) as Problem).detail).toBe(
      ((await unknown.json()) as Problem).detail,
    );
  });

  it('sends a registration committed while the users sidecar was down, once it is back', {
    timeout: 60_000,
  }, async () => {
    await shop.kill('users-dapr');
    const users = shop.apps.users;
    // The gateway cannot reach users now, so the call goes straight to the app as its sidecar would.
    const res = await fetch(`http://127.0.0.1:${users?.appPort}/api/v1/auth/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'dapr-api-token': users?.appApiToken as string,
        'dapr-caller-app-id': 'gateway',
      },
      body: JSON.stringify({ email: 'outage@example.com', password, name: 'Outage' }),
    });
    expect(res.status).toBe(201);
    await shop.restart('users-dapr');
    await welcomeArrives((await loginWhenAvailable('outage@example.com')).accessToken);
  });

  it('loses no event while the broker is down', { timeout: 60_000 }, async () => {
    await shop.kill('redis');
    const res = await post('/api/v1/auth/register', {
      email: 'broker@example.com',
      password,
      name: 'Broker',
    });
    expect(res.status).toBe(201);
    await shop.restart('redis');
    const pair = (await (
      await post('/api/v1/auth/login', { email: 'broker@example.com', password })
    ).json()) as Pair;
    await welcomeArrives(pair.accessToken);
  });

  it('keeps tokens of the previous signing key valid after a rotation', async () => {
    const before = await signUpAndLogin('keys@example.com');
    const file = join(shop.dataDir, 'secrets.json');
    const secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    const rotated = await rotateSigningKeySet(
      parseSigningKeySet(secrets[signingKeysSecretName] as string),
    );
    writeFileSync(file, JSON.stringify({ [signingKeysSecretName]: JSON.stringify(rotated) }));
    // The local file store reads its file at start; in a cluster the keyring's reload picks it up.
    await shop.kill('users');
    await shop.kill('users-dapr');
    await shop.restart('users-dapr');
    await shop.restart('users');

    expect((await me(before.accessToken)).status).toBe(200);
    const after = (await (
      await post('/api/v1/auth/login', { email: 'keys@example.com', password })
    ).json()) as Pair;
    const kid = JSON.parse(
      Buffer.from(after.accessToken.split('.')[0] as string, 'base64url').toString(),
    ).kid;
    expect(kid).toBe(rotated.current.kid);
    // The gateway knew this key before it signed anything: it was published as the next one.
    expect((await me(after.accessToken)).status).toBe(200);
  });
});

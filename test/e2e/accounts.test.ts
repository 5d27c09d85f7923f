import { pollUntil } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 20 across the shop: users' account routes, the verification and reset links mailed
// by notifications to the shop's mailpit, and the gateway refusing the access tokens of
// every session users ends (user.signed_out).
let shop: TestShop;
const admin = { email: 'accounts-admin@example.com', password: 'the admin passphrase 1' };
const password = 'correct horse battery';
type Pair = { accessToken: string; refreshToken: string };
type PublicUser = {
  id: string;
  email: string;
  name: string;
  role: string;
  status: string;
  emailVerified: boolean;
};

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users', 'notifications'],
    appEnv: {
      users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
      notifications: { EMAIL_SEND_INTERVAL_MS: '200', EMAIL_RETRY_BASE_MS: '200' },
    },
  });
});

afterAll(async () => {
  await shop?.stop();
});

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

async function register(email: string, name = 'Accounts E2E'): Promise<PublicUser> {
  const res = await shop.send('POST', '/api/v1/auth/register', { body: { email, password, name } });
  expect(res.status).toBe(201);
  return (await res.json()) as PublicUser;
}

async function login(email: string, pass = password): Promise<Response> {
  return shop.send('POST', '/api/v1/auth/login', { body: { email, password: pass } });
}

async function pairFor(email: string, pass = password): Promise<Pair> {
  const res = await login(email, pass);
  expect(res.status).toBe(200);
  return (await res.json()) as Pair;
}

const refresh = (refreshToken: string) =>
  shop.send('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
const me = (token: string) => shop.send('GET', '/api/v1/users/me', { token });

/** Waits until the gateway refuses the access token: it heard the session end. */
async function refusedWithin5s(token: string): Promise<void> {
  const started = Date.now();
  await pollUntil(async () => ((await me(token)).status === 401 ? true : undefined), {
    what: 'the gateway to refuse an ended session’s access token',
    timeoutMs: 5_000,
  });
  expect(Date.now() - started).toBeLessThan(5_000);
}

type MailSummary = { ID: string; Subject: string };

/** The token in the link of the newest mail to `address` with `subject`, once it is there. */
async function tokenMailed(address: string, subject: string, count = 1): Promise<string> {
  const mails = await pollUntil(
    async () => {
      const query = encodeURIComponent(`to:"${address}" subject:"${subject}"`);
      const res = await fetch(`${shop.mailpit?.apiUrl}/api/v1/search?query=${query}`);
      const found = ((await res.json()) as { messages: MailSummary[] }).messages;
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 30_000, what: `mail "${subject}" to ${address}` },
  );
  // Mailpit lists the newest first.
  const res = await fetch(`${shop.mailpit?.apiUrl}/api/v1/message/${mails[0]?.ID}`);
  const { Text } = (await res.json()) as { Text: string };
  const link = /[?&]token=([^\s&"<>]+)/.exec(Text)?.[1];
  if (!link) throw new Error(`no link with a token in: ${Text}`);
  return decodeURIComponent(link);
}

const verificationSubject = 'Confirm your email address for Shop';
const resetSubject = 'Reset your Shop password';

describe('a customer’s own account', () => {
  const email = uniqueEmail('owner');
  let current = password;

  it('verifies the address with the mailed link, and the profile says so', async () => {
    const user = await register(email);
    expect(user).toMatchObject({ status: 'active', emailVerified: false });
    const token = await tokenMailed(email, verificationSubject);
    const verify = () => shop.send('POST', '/api/v1/auth/verify-email', { body: { token } });
    expect((await verify()).status).toBe(204);
    expect((await verify()).status).toBe(400);
    const { accessToken } = await pairFor(email);
    expect(await (await me(accessToken)).json()).toMatchObject({ emailVerified: true });
  });

  it('renames itself', async () => {
    const { accessToken } = await pairFor(email);
    const res = await shop.send('PATCH', '/api/v1/users/me', {
      token: accessToken,
      body: { name: 'Renamed Owner' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email, name: 'Renamed Owner' });
  });

  it('changes its password: earlier sessions end everywhere, the fresh one works', async () => {
    const old = await pairFor(email);
    const wrong = await shop.send('POST', '/api/v1/users/me/password', {
      token: old.accessToken,
      body: { currentPassword: 'not the password at all', newPassword: 'a second passphrase' },
    });
    expect(wrong.status).toBe(403);
    const res = await shop.send('POST', '/api/v1/users/me/password', {
      token: old.accessToken,
      body: { currentPassword: current, newPassword: 'a second passphrase' },
    });
    expect(res.status).toBe(200);
    current = 'a second passphrase';
    const fresh = (await res.json()) as Pair;

    expect((await refresh(old.refreshToken)).status).toBe(401);
    await refusedWithin5s(old.accessToken);
    expect((await me(fresh.accessToken)).status).toBe(200);
    expect((await refresh(fresh.refreshToken)).status).toBe(200);
    expect((await login(email, password)).status).toBe(401);
  });

  it('resets a forgotten password with the mailed link, once', async () => {
    const before = await pairFor(email, current);
    const asked = await shop.send('POST', '/api/v1/auth/password-reset', { body: { email } });
    expect(asked.status).toBe(202);
    const token = await tokenMailed(email, resetSubject);
    const confirm = (newPassword: string) =>
      shop.send('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword } });
    expect((await confirm('a third passphrase')).status).toBe(204);
    expect(((await (await confirm('a fourth passphrase')).json()) as Problem).status).toBe(400);

    expect((await login(email, current)).status).toBe(401);
    current = 'a third passphrase';
    expect((await login(email, current)).status).toBe(200);
    expect((await refresh(before.refreshToken)).status).toBe(401);
    await refusedWithin5s(before.accessToken);
  });

  it('answers a reset for an unknown address with the same 202', async () => {
    const res = await shop.send('POST', '/api/v1/auth/password-reset', {
      body: { email: uniqueEmail('nobody') },
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
  });

  it('deletes itself: no more logins, its token refused', async () => {
    const { accessToken } = await pairFor(email, current);
    const wrong = await shop.send('DELETE', '/api/v1/users/me', {
      token: accessToken,
      body: { password: 'not the password at all' },
    });
    expect(wrong.status).toBe(403);
    const res = await shop.send('DELETE', '/api/v1/users/me', {
      token: accessToken,
      body: { password: current },
    });
    expect(res.status).toBe(204);
    expect((await login(email, current)).status).toBe(401);
    await refusedWithin5s(accessToken);
  });
});

describe('an admin managing users', () => {
  const tag = `managed${Date.now()}`;
  let adminToken = '';
  const adminGet = (path: string) => shop.send('GET', path, { token: adminToken });
  const adminPatch = (id: string, body: unknown) =>
    shop.send('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body });

  beforeAll(async () => {
    adminToken = (await pairFor(admin.email, admin.password)).accessToken;
  });

  it('lists, searches and pages users, newest first', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await register(uniqueEmail(`${tag}-${i}`))).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `q=${tag.toUpperCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await adminGet(`/api/v1/admin/users?${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: PublicUser[]; nextCursor: string | null };
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(created.reverse());
    const one = await adminGet(`/api/v1/admin/users/${created[0]}`);
    expect(await one.json()).toMatchObject({ id: created[0], role: 'customer', status: 'active' });
    const customer = await pairFor(
      ((await (await adminGet(`/api/v1/admin/users/${created[0]}`)).json()) as PublicUser).email,
    );
    expect(
      (await shop.send('GET', '/api/v1/admin/users', { token: customer.accessToken })).status,
    ).toBe(403);
  });

  it('disables a user (logins 403, tokens refused) and enables them again', async () => {
    const email = uniqueEmail(`${tag}-disabled`);
    const user = await register(email);
    const pair = await pairFor(email);
    const res = await adminPatch(user.id, { status: 'disabled' });
    expect(await res.json()).toMatchObject({ status: 'disabled' });
    expect((await login(email)).status).toBe(403);
    expect((await login(email, 'not the password at all')).status).toBe(401);
    expect((await refresh(pair.refreshToken)).status).toBe(401);
    await refusedWithin5s(pair.accessToken);

    expect((await adminPatch(user.id, { status: 'active' })).status).toBe(200);
    expect((await login(email)).status).toBe(200);
  });

  it('promotes a user, and never demotes or disables the last active admin', async () => {
    const email = uniqueEmail(`${tag}-promoted`);
    const user = await register(email);
    expect(await (await adminPatch(user.id, { role: 'admin' })).json()).toMatchObject({
      role: 'admin',
    });
    const promoted = await pairFor(email);
    expect(
      (await shop.send('GET', '/api/v1/admin/users', { token: promoted.accessToken })).status,
    ).toBe(200);

    expect((await adminPatch(user.id, { role: 'customer' })).status).toBe(200);
    const self = (await (await me(adminToken)).json()) as PublicUser;
    for (const body of [{ role: 'customer' }, { status: 'disabled' }]) {
      const refused = await adminPatch(self.id, body);
      expect(refused.status).toBe(409);
    }
  });
});

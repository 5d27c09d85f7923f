import { createHash } from 'node:crypto';
import { databaseBackends } from '@shop/devkit/testing';
import { createLogger, type Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { purgeSessions } from '../sessions/service.ts';
import {
  accountHelpers,
  manualClock,
  password,
  type TestPair,
  uniqueEmail,
  useUsersApp,
} from '../test-support.ts';

const newPassword = 'a brand new passphrase';

describe.each(databaseBackends)('account lifecycle on %s', (backend) => {
  // Mailed tokens expire by this clock: it moves only when a test moves it.
  const clock = manualClock();
  const users = useUsersApp(backend, { clock: clock.now });
  const ctx = { clock, users, ...accountHelpers(users) };

  verificationCases(ctx);
  passwordResetCases(ctx);
  profileCases(ctx);
  passwordChangeCases(ctx);
  deletionCases(ctx);
});

type UsersApp = ReturnType<typeof useUsersApp>;
type Ctx = { clock: ReturnType<typeof manualClock>; users: UsersApp } & ReturnType<
  typeof accountHelpers
>;

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as Problem;
}

function verificationCases({ clock, users, signUp, login, mailedToken, eventsAbout }: Ctx) {
  const verify = (token: string) =>
    users.call('POST', '/api/v1/auth/verify-email', { body: { token } });

  it('asks for verification at sign-up, storing only the hash of a 24-hour token', async () => {
    const user = await signUp('verify');
    const [event] = await eventsAbout('user.email_verification_requested', user.id);
    const data = event?.data as { token: string; expiresAt: string; email: string };
    expect(data.email).toBe(user.email);
    expect(Date.parse(data.expiresAt) - clock.now().getTime()).toBe(24 * 3600 * 1000);
    const rows = await users
      .get()
      .db.selectFrom('account_tokens')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([
      expect.objectContaining({
        purpose: 'email_verification',
        token_hash: createHash('sha256').update(data.token).digest('hex'),
        used_at: null,
      }),
    ]);
    const me = await users.call('GET', '/api/v1/users/me', { token: user.accessToken });
    expect(await me.json()).toMatchObject({ status: 'active', emailVerified: false });
    expect(claimsOf(user.accessToken).email_verified).toBe(false);
  });

  it('verifies with the token once; later tokens carry email_verified', async () => {
    const user = await signUp('verify');
    const token = await mailedToken('user.email_verification_requested', user.id);
    expect((await verify(token)).status).toBe(204);
    const me = await users.call('GET', '/api/v1/users/me', { token: user.accessToken });
    expect(await me.json()).toMatchObject({ emailVerified: true });
    const pair = (await (await login(user.email)).json()) as TestPair;
    expect(claimsOf(pair.accessToken).email_verified).toBe(true);
    expect((await expectProblem(await verify(token), 400)).type).toBe(
      'urn:shop:problem:bad-request',
    );
  });

  it('refuses an unknown token, an expired one and a reset token with 400', async () => {
    const user = await signUp('verify');
    const token = await mailedToken('user.email_verification_requested', user.id);
    await expectProblem(await verify('not-a-token-we-issued'), 400);
    await users.call('POST', '/api/v1/auth/password-reset', { body: { email: user.email } });
    const reset = await mailedToken('user.password_reset_requested', user.id);
    await expectProblem(await verify(reset), 400);
    clock.advance(24 * 3600 + 1);
    await expectProblem(await verify(token), 400);
  });

  it('purges used and expired tokens, keeping live ones', async () => {
    const used = await signUp('purge');
    await verify(await mailedToken('user.email_verification_requested', used.id));
    const live = await signUp('purge');
    const { db } = users.get();
    const logger = createLogger({ service: 't', write: () => {} });
    await purgeSessions({ db, logger, clock: clock.now });
    const left = async (userId: string) =>
      db.selectFrom('account_tokens').select('used_at').where('user_id', '=', userId).execute();
    expect(await left(used.id)).toEqual([]);
    expect(await left(live.id)).toHaveLength(1);
    clock.advance(24 * 3600);
    await purgeSessions({ db, logger, clock: clock.now });
    expect(await left(live.id)).toEqual([]);
  });

  it('resends a link that supersedes the last one, and 409 once verified', async () => {
    const user = await signUp('resend');
    const first = await mailedToken('user.email_verification_requested', user.id);
    const resend = () =>
      users.call('POST', '/api/v1/users/me/email-verification', { token: user.accessToken });
    expect((await resend()).status).toBe(202);
    const second = await mailedToken('user.email_verification_requested', user.id);
    expect(second).not.toBe(first);
    await expectProblem(await verify(first), 400);
    expect((await verify(second)).status).toBe(204);
    await expectProblem(await resend(), 409);
    await expectProblem(await users.call('POST', '/api/v1/users/me/email-verification'), 401);
  });
}

function passwordResetCases({
  clock,
  users,
  signUp,
  login,
  refresh,
  mailedToken,
  eventsAbout,
}: Ctx) {
  const request = (email: string) =>
    users.call('POST', '/api/v1/auth/password-reset', { body: { email } });
  const confirm = (token: string, pass = newPassword) =>
    users.call('POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, newPassword: pass },
    });

  it('answers an unknown email exactly as a known one, and mails nothing for it', async () => {
    const user = await signUp('reset');
    const known = await request(user.email.toUpperCase());
    await users.get().outbox.drain();
    const before = users.published.length;
    const unknown = await request(uniqueEmail('nobody'));
    for (const res of [known, unknown]) {
      expect(res.status).toBe(202);
      expect(await res.text()).toBe('');
    }
    await users.get().outbox.drain();
    expect(users.published.length).toBe(before);
    expect(await eventsAbout('user.password_reset_requested', user.id)).toHaveLength(1);
  });

  it('resets with the latest token once, ending every session', async () => {
    const user = await signUp('reset');
    const other = (await (await login(user.email)).json()) as TestPair;
    await request(user.email);
    const stale = await mailedToken('user.password_reset_requested', user.id);
    await request(user.email);
    const [, latest] = await eventsAbout('user.password_reset_requested', user.id);
    const data = latest?.data as { token: string; expiresAt: string };
    expect(Date.parse(data.expiresAt) - clock.now().getTime()).toBe(30 * 60 * 1000);

    await expectProblem(await confirm(stale), 400);
    expect((await confirm(data.token)).status).toBe(204);
    await expectProblem(await confirm(data.token, 'yet another passphrase'), 400);

    expect((await login(user.email)).status).toBe(401);
    expect((await login(user.email, newPassword)).status).toBe(200);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect(await eventsAbout('user.signed_out', user.id)).toHaveLength(2);
  });

  it('refuses an expired reset token, and mails nothing for a disabled account', async () => {
    const user = await signUp('reset');
    await request(user.email);
    const token = await mailedToken('user.password_reset_requested', user.id);
    clock.advance(30 * 60 + 1);
    await expectProblem(await confirm(token), 400);

    await users
      .get()
      .db.updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', user.id)
      .execute();
    expect((await request(user.email)).status).toBe(202);
    expect(await eventsAbout('user.password_reset_requested', user.id)).toHaveLength(1);
  });

  it.each([
    ['/api/v1/auth/password-reset', { email: 'not-an-email' }, 'email'],
    ['/api/v1/auth/password-reset/confirm', { token: 'x', newPassword: 'short' }, 'newPassword'],
    ['/api/v1/auth/password-reset/confirm', { token: '', newPassword }, 'token'],
    ['/api/v1/auth/verify-email', { token: 'x'.repeat(201) }, 'token'],
  ])('refuses %s with %o as 400 naming %s', async (path, body, field) => {
    const problem = await expectProblem(await users.call('POST', path, { body }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(field);
  });
}

function profileCases({ users, signUp }: Ctx) {
  it('renames the caller, trimmed, and refuses a bad name or no token', async () => {
    const user = await signUp('rename');
    const patch = (body: unknown, token?: string) =>
      users.call('PATCH', '/api/v1/users/me', { body, ...(token ? { token } : {}) });
    const res = await patch({ name: '  Grace Hopper ' }, user.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, name: 'Grace Hopper' });
    await expectProblem(await patch({ name: 'a\nb' }, user.accessToken), 400);
    await expectProblem(await patch({}, user.accessToken), 400);
    await expectProblem(await patch({ name: 'Nobody' }), 401);
  });
}

function passwordChangeCases({ users, signUp, login, refresh, eventsAbout }: Ctx) {
  const change = (token: string, currentPassword: string, next = newPassword) =>
    users.call('POST', '/api/v1/users/me/password', {
      body: { currentPassword, newPassword: next },
      token,
    });

  it('refuses a wrong current password with 403 and changes nothing', async () => {
    const user = await signUp('change');
    await expectProblem(await change(user.accessToken, 'not my password at all'), 403);
    expect((await refresh(user.refreshToken)).status).toBe(200);
    expect((await login(user.email)).status).toBe(200);
  });

  it('answers a fresh pair and ends every earlier session, once each', async () => {
    const user = await signUp('change');
    const other = (await (await login(user.email)).json()) as TestPair;
    const loggedOut = (await (await login(user.email)).json()) as TestPair;
    await users.call('POST', '/api/v1/auth/logout', {
      body: { refreshToken: loggedOut.refreshToken },
    });
    const before = (await eventsAbout('user.signed_out', user.id)).length;

    const res = await change(user.accessToken, password);
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as TestPair & { tokenType: string };
    expect(fresh.tokenType).toBe('Bearer');

    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    const signedOut = (await eventsAbout('user.signed_out', user.id)).slice(before);
    const ended = signedOut.map((e) => (e.data as { sessionId: string }).sessionId).sort();
    expect(ended).toEqual([claimsOf(user.accessToken).sid, claimsOf(other.accessToken).sid].sort());
    expect(ended).not.toContain(claimsOf(fresh.accessToken).sid);
    expect((await refresh(fresh.refreshToken)).status).toBe(200);
    expect((await login(user.email)).status).toBe(401);
    expect((await login(user.email, newPassword)).status).toBe(200);
  });

  it('validates the new password', async () => {
    const user = await signUp('change');
    const problem = await expectProblem(await change(user.accessToken, password, 'short'), 400);
    expect(problem.errors?.map((e) => e.path)).toContain('newPassword');
  });
}

function deletionCases({ users, signUp, login, eventsAbout }: Ctx) {
  const remove = (token: string, pass: string) =>
    users.call('DELETE', '/api/v1/users/me', { body: { password: pass }, token });

  it('refuses a wrong password with 403 and keeps the account', async () => {
    const user = await signUp('delete');
    await expectProblem(await remove(user.accessToken, 'not my password at all'), 403);
    await expectProblem(
      await users.call('DELETE', '/api/v1/users/me', { token: user.accessToken }),
      400,
    );
    expect((await login(user.email)).status).toBe(200);
  });

  it('deletes the account and every row of it, and says so', async () => {
    const user = await signUp('delete');
    await login(user.email, 'a wrong password here');
    await login(user.email);
    const { db } = users.get();
    expect((await remove(user.accessToken, password)).status).toBe(204);
    // Before the login below, which counts an attempt for the address anew.
    const throttle = await db
      .selectFrom('login_throttle')
      .select('key')
      .where('key', 'like', `%${user.email}%`)
      .execute();
    expect(throttle).toEqual([]);

    expect((await login(user.email)).status).toBe(401);
    await expectProblem(
      await users.call('GET', '/api/v1/users/me', { token: user.accessToken }),
      404,
    );
    const left = async (table: 'users' | 'token_families' | 'device_tokens' | 'account_tokens') =>
      (
        await db
          .selectFrom(table)
          .select(({ fn }) => fn.countAll<number>().as('n'))
          .where(table === 'users' ? 'id' : 'user_id', '=', user.id)
          .executeTakeFirstOrThrow()
      ).n;
    for (const table of ['users', 'token_families', 'device_tokens', 'account_tokens'] as const) {
      expect(Number(await left(table))).toBe(0);
    }
    expect(await eventsAbout('user.deleted', user.id)).toHaveLength(1);
    expect(await eventsAbout('user.signed_out', user.id)).toHaveLength(2);
  });
}

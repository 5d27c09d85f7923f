import { databaseBackends } from '@shop/devkit/testing';
import type { ShopEvent } from '@shop/platform';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { manualClock, password, uniqueEmail, useUsersApp } from '../test-support.ts';
import { maxDevicesPerAccount, purgeDeviceTokens } from './device-tokens.ts';
import { throttlePolicy } from './throttle.ts';

type LoginTokens = {
  accessToken: string;
  refreshToken: string;
  deviceToken: string;
  expiresIn: number;
};

let addresses = 0;
/** A client address no other test uses, so per-address counts never cross tests. */
const freshAddress = () => {
  addresses++;
  return `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}`;
};

describe.each(databaseBackends)('device tokens on %s', (backend) => {
  const clock = manualClock();
  const maxFailures = 4;
  // A small account cap, so tripping it takes a dozen password checks, not a hundred.
  const throttle = { ...throttlePolicy, account: { attempts: 12 } };
  const users = useUsersApp(backend, {
    clock: clock.now,
    deviceTokenMaxFailures: maxFailures,
    throttle,
  });

  const ctx = { clock, maxFailures, throttle, users, ...deviceHelpers(users, throttle) };

  deviceLoginCases(ctx);
  capNoticeCases(ctx);
  deviceLimitCases(ctx);
  sessionAndLogoutCases(ctx);
  revocationAndInputCases(ctx);
});

type UsersApp = ReturnType<typeof useUsersApp>;
type Throttle = Omit<typeof throttlePolicy, 'account'> & { account: { attempts: number } };
type Ctx = {
  clock: ReturnType<typeof manualClock>;
  maxFailures: number;
  throttle: Throttle;
  users: UsersApp;
} & ReturnType<typeof deviceHelpers>;

/** Sign-up and logins from fresh addresses, and the events they publish. */
function deviceHelpers(users: UsersApp, throttle: Throttle) {
  async function signUp(label = 'device') {
    const email = uniqueEmail(label);
    const res = await users.call('POST', '/api/v1/auth/register', {
      body: { email, password, name: label },
    });
    expect(res.status).toBe(201);
    return { email, id: ((await res.json()) as { id: string }).id };
  }

  const login = (
    email: string,
    options: { password?: string; deviceToken?: string; address?: string } = {},
  ) =>
    users.call('POST', '/api/v1/auth/login', {
      body: {
        email,
        password: options.password ?? password,
        ...(options.deviceToken === undefined ? {} : { deviceToken: options.deviceToken }),
      },
      headers: { 'x-forwarded-for': options.address ?? freshAddress() },
    });

  async function loggedIn(email: string, deviceToken?: string): Promise<LoginTokens> {
    const res = await login(email, { deviceToken });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as LoginTokens;
  }

  /** Wrong passwords from many addresses, each under its pair and address limits. */
  async function guessFromEverywhere(email: string, guesses: number): Promise<number[]> {
    const statuses: number[] = [];
    let address = freshAddress();
    for (let i = 0; i < guesses; i++) {
      if (i % throttle.pair.attempts === 0) address = freshAddress();
      const res = await login(email, { password: `stranger guess ${i}`, address });
      statuses.push(res.status);
    }
    return statuses;
  }

  async function eventsOf<T extends ShopEvent['type']>(type: T, userId: string) {
    await users.get().outbox.drain();
    return users.published.filter(
      (e): e is Extract<ShopEvent, { type: T }> =>
        e.type === type && (e.data as { userId: string }).userId === userId,
    );
  }
  return { signUp, login, loggedIn, guessFromEverywhere, eventsOf };
}

function deviceLoginCases({ throttle, users, signUp, login, loggedIn, guessFromEverywhere }: Ctx) {
  it('answers a device token with a login, stored only as a hash, and the same one again', async () => {
    const user = await signUp();
    const first = await loggedIn(user.email);
    expect(first.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await users.get().db.selectFrom('device_tokens').select('token_hash').execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(first.deviceToken);

    const again = await loggedIn(user.email, first.deviceToken);
    expect(again.deviceToken).toBe(first.deviceToken);
    // A device token is not a credential: without the password it opens nothing.
    const wrong = await login(user.email, { password: 'not it', deviceToken: first.deviceToken });
    expect(wrong.status).toBe(401);
  });

  it('lets the owner in with its device token after strangers exhaust the account cap', async () => {
    const owner = await signUp('owner');
    const other = await signUp('other');
    const { deviceToken } = await loggedIn(owner.email);
    const othersToken = (await loggedIn(other.email)).deviceToken;

    const statuses = await guessFromEverywhere(owner.email, throttle.account.attempts + 10);
    // The guess that crosses the cap is still checked; the rest wait.
    expect(statuses.filter((s) => s === 401)).toHaveLength(throttle.account.attempts + 1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);

    const without = await login(owner.email);
    expect(without.status).toBe(429);
    expect(Number(without.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(owner.email, { deviceToken: othersToken })).status).toBe(429);
    expect((await login(owner.email, { deviceToken: 'made-up' })).status).toBe(429);
    expect((await loggedIn(owner.email, deviceToken)).deviceToken).toBe(deviceToken);
  });
}

function capNoticeCases({
  clock,
  throttle,
  users,
  signUp,
  login,
  loggedIn,
  guessFromEverywhere,
  eventsOf,
}: Ctx) {
  it('tells the owner once per window that the cap tripped, and again in the next window', async () => {
    const owner = await signUp('locked');
    const { deviceToken } = await loggedIn(owner.email);
    const windowStart = clock.now();
    await guessFromEverywhere(owner.email, throttle.account.attempts);
    // The owner's own login (no device token) crosses the cap: still checked, so it gets in.
    expect((await login(owner.email)).status).toBe(200);

    const [locked, ...more] = await eventsOf('user.login_locked', owner.id);
    expect(more).toEqual([]);
    expect(locked?.data).toEqual({
      userId: owner.id,
      email: owner.email,
      until: new Date(windowStart.getTime() + throttle.windowSeconds * 1000).toISOString(),
      attempts: throttle.account.attempts + 1,
    });

    // That success took its attempt back, so the next guess trips the cap a second time in
    // this window: the owner is not told twice. Neither refusals nor the device's logins tell.
    expect(await guessFromEverywhere(owner.email, 3)).toEqual([401, 429, 429]);
    await loggedIn(owner.email, deviceToken);
    expect(await eventsOf('user.login_locked', owner.id)).toHaveLength(1);

    clock.advance(throttle.windowSeconds + 1);
    expect((await login(owner.email)).status).toBe(200);
    await guessFromEverywhere(owner.email, throttle.account.attempts + 2);
    expect(await eventsOf('user.login_locked', owner.id)).toHaveLength(2);
  });

  it('reports nothing for guesses at an email that has no account', async () => {
    const before = users.published.length;
    const statuses = await guessFromEverywhere(
      uniqueEmail('nobody'),
      throttle.account.attempts + 2,
    );
    expect(statuses.at(-1)).toBe(429);
    await users.get().outbox.drain();
    expect(users.published.slice(before).filter((e) => e.type === 'user.login_locked')).toEqual([]);
  });
}

function deviceLimitCases({ clock, maxFailures, throttle, users, signUp, login, loggedIn }: Ctx) {
  it('still applies the per-address and per-pair limits to a trusted device', async () => {
    const user = await signUp('paired');
    const { deviceToken } = await loggedIn(user.email);
    const address = freshAddress();
    for (let i = 0; i <= throttle.pair.attempts; i++) {
      await login(user.email, { password: `typo ${i}`, deviceToken: 'unknown', address });
    }
    expect((await login(user.email, { deviceToken, address })).status).toBe(429);
  });

  it('revokes a device token after repeated wrong passwords sent with it', async () => {
    const user = await signUp('stolen');
    const { deviceToken } = await loggedIn(user.email);
    for (let i = 0; i < maxFailures - 1; i++) {
      const res = await login(user.email, { password: `thief ${i}`, deviceToken });
      expect(res.status).toBe(401);
    }
    // One short of the limit the owner's success forgives the typos...
    expect((await loggedIn(user.email, deviceToken)).deviceToken).toBe(deviceToken);
    for (let i = 0; i < maxFailures; i++) {
      await login(user.email, { password: `thief again ${i}`, deviceToken });
    }
    // ...at the limit the token is dead: the next login is a new device.
    const after = await loggedIn(user.email, deviceToken);
    expect(after.deviceToken).not.toBe(deviceToken);
  });

  it('ignores an expired device token', async () => {
    const user = await signUp('expiring');
    const { deviceToken } = await loggedIn(user.email);
    clock.advance(180 * 24 * 3600);
    const after = await loggedIn(user.email, deviceToken);
    expect(after.deviceToken).not.toBe(deviceToken);
    expect(await purgeDeviceTokens(users.get().db, clock.now())).toBeGreaterThanOrEqual(1);
  });

  it('keeps the newest devices of an account only', async () => {
    const user = await signUp('many');
    for (let i = 0; i <= maxDevicesPerAccount; i++) await loggedIn(user.email);
    const kept = await users
      .get()
      .db.selectFrom('device_tokens')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(kept).toHaveLength(maxDevicesPerAccount);
  });
}

function sessionAndLogoutCases({ users, signUp, loggedIn, eventsOf }: Ctx) {
  it('logs out: publishes user.signed_out once with the sid, and forgets the device sent along', async () => {
    const user = await signUp('leaving');
    const other = await signUp('staying');
    const session = await loggedIn(user.email);
    const othersDevice = (await loggedIn(other.email)).deviceToken;
    const sid = decodeJwt(session.accessToken).sid;
    expect(sid).toEqual(expect.any(String));

    const body = { refreshToken: session.refreshToken, deviceToken: session.deviceToken };
    expect((await users.call('POST', '/api/v1/auth/logout', { body })).status).toBe(204);
    expect((await users.call('POST', '/api/v1/auth/logout', { body })).status).toBe(204);
    const signedOut = await eventsOf('user.signed_out', user.id);
    expect(signedOut.map((e) => e.data)).toEqual([{ userId: user.id, sessionId: sid }]);
    expect((await loggedIn(user.email, session.deviceToken)).deviceToken).not.toBe(
      session.deviceToken,
    );

    // Someone else's device token sent with one's own logout is left alone.
    const mine = await loggedIn(user.email);
    await users.call('POST', '/api/v1/auth/logout', {
      body: { refreshToken: mine.refreshToken, deviceToken: othersDevice },
    });
    expect((await loggedIn(other.email, othersDevice)).deviceToken).toBe(othersDevice);
  });

  it('keeps the session id through refreshes', async () => {
    const user = await signUp('refreshing');
    const session = await loggedIn(user.email);
    const res = await users.call('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    const refreshed = (await res.json()) as LoginTokens;
    expect(refreshed).not.toHaveProperty('deviceToken');
    expect(decodeJwt(refreshed.accessToken).sid).toBe(decodeJwt(session.accessToken).sid);
  });
}

function revocationAndInputCases({ users, signUp, loggedIn }: Ctx) {
  it('revokes all of the caller’s device tokens on DELETE /users/me/devices', async () => {
    const user = await signUp('forgetful');
    const other = await signUp('unaffected');
    const phone = await loggedIn(user.email);
    const laptop = await loggedIn(user.email);
    const othersDevice = (await loggedIn(other.email)).deviceToken;

    const anonymous = await users.call('DELETE', '/api/v1/users/me/devices');
    expect(anonymous.status).toBe(401);
    const res = await users.call('DELETE', '/api/v1/users/me/devices', {
      token: phone.accessToken,
    });
    expect(res.status).toBe(204);

    for (const device of [phone.deviceToken, laptop.deviceToken]) {
      expect((await loggedIn(user.email, device)).deviceToken).not.toBe(device);
    }
    expect((await loggedIn(other.email, othersDevice)).deviceToken).toBe(othersDevice);
  });

  it('refuses an oversized device token with 400', async () => {
    const res = await users.call('POST', '/api/v1/auth/login', {
      body: { email: uniqueEmail(), password, deviceToken: 'x'.repeat(201) },
    });
    expect(res.status).toBe(400);
  });
}

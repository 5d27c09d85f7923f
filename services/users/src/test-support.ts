import { type DatabaseBackend, testTokenSettings, useServiceApp } from '@shop/devkit/testing';
import {
  createKeyring,
  generateSigningKeySet,
  loadSigningKeys,
  signingKeysSecretName,
} from '@shop/platform/auth';
import { createApp } from './app.ts';
import type { ThrottlePolicy } from './sessions/throttle.ts';
import type { UsersTables } from './tables.ts';

/** A clock a test moves by hand, for the login throttle's windows and device token expiry. */
export function manualClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/**
 * The users app over a real database (a private PostgreSQL or an in-memory PGlite), with
 * real signing keys; only the broker is replaced, by a list the test can read.
 */
export function useUsersApp(
  backend: DatabaseBackend,
  options: { clock?: () => Date; deviceTokenMaxFailures?: number; throttle?: ThrottlePolicy } = {},
) {
  return useServiceApp<UsersTables, ReturnType<typeof createApp>>({
    backend,
    migrations: new URL('../migrations', import.meta.url),
    async createApp({ db, outbox, logger, appApiToken, onClose }) {
      const keySet = JSON.stringify(await generateSigningKeySet());
      const keyring = await createKeyring({
        load: () => loadSigningKeys(async () => ({ [signingKeysSecretName]: keySet })),
        logger,
      });
      onClose(() => keyring.stop());
      return createApp({
        config: {
          APP_API_TOKEN: appApiToken,
          REFRESH_TOKEN_TTL_DAYS: 30,
          DEVICE_TOKEN_TTL_DAYS: 180,
          DEVICE_TOKEN_MAX_FAILURES: options.deviceTokenMaxFailures ?? 10,
          ACCESS_TOKEN_TTL_SECONDS: 900,
          JWT_ISSUER: testTokenSettings.issuer,
          JWT_AUDIENCE: testTokenSettings.audience,
        },
        logger,
        db,
        outbox,
        keyring,
        readiness: { sidecar: async () => {}, database: async () => {} },
        clock: options.clock,
        throttle: options.throttle,
      });
    },
  });
}

let counter = 0;

/** An email nobody else in this test file uses. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${++counter}-${Date.now()}@example.com`;
}

export const password = 'correct horse battery';

export type TestPair = { accessToken: string; refreshToken: string };

/** Sign-up, login, refresh and the events published, as the account tests use them. */
export function accountHelpers(users: ReturnType<typeof useUsersApp>) {
  const login = (email: string, pass = password) =>
    users.call('POST', '/api/v1/auth/login', { body: { email, password: pass } });
  const refresh = (refreshToken: string) =>
    users.call('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
  /** A new account, logged in once. */
  async function signUp(label = 'user') {
    const email = uniqueEmail(label);
    const res = await users.call('POST', '/api/v1/auth/register', {
      body: { email, password, name: label },
    });
    if (res.status !== 201) throw new Error(`sign-up answered ${res.status}`);
    const { id } = (await res.json()) as { id: string };
    const pair = (await (await login(email)).json()) as TestPair;
    return { id, email, ...pair };
  }
  /** Every event of `type` about the user published so far, once the outbox is drained. */
  async function eventsAbout(type: string, userId: string) {
    await users.get().outbox.drain();
    return users.published.filter(
      (e) => e.type === type && (e.data as { userId?: string }).userId === userId,
    );
  }
  /** The token of the latest mail-link event of `type` for the user. */
  async function mailedToken(type: string, userId: string): Promise<string> {
    const event = (await eventsAbout(type, userId)).at(-1);
    if (!event) throw new Error(`no ${type} for ${userId}`);
    return (event.data as { token: string }).token;
  }
  async function makeAdmin(userId: string): Promise<string> {
    await users
      .get()
      .db.updateTable('users')
      .set({ role: 'admin' })
      .where('id', '=', userId)
      .execute();
    const { email } = await users
      .get()
      .db.selectFrom('users')
      .select('email')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    return ((await (await login(email)).json()) as TestPair).accessToken;
  }
  return { login, refresh, signUp, eventsAbout, mailedToken, makeAdmin };
}

import { AppError, buildEvent, type Logger } from '@shop/platform';
import type { TokenIssuer } from '@shop/platform/auth';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely, Transaction } from 'kysely';
import { purgeAccountTokens } from '../accounts/account-tokens.ts';
import { decoyHash, verifyPassword } from '../accounts/password.ts';
import { findUserByEmail, findUserById, type User } from '../accounts/repository.ts';
import { serviceName } from '../config.ts';
import type { UsersTables } from '../tables.ts';
import {
  type DeviceTokenPolicy,
  findTrustedDevice,
  issueDeviceToken,
  purgeDeviceTokens,
  recordDeviceFailure,
  resetDeviceFailures,
  revokeDeviceToken,
  revokeUserDevices,
} from './device-tokens.ts';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.ts';
import {
  createFamily,
  findRefreshToken,
  insertRefreshToken,
  purgeRefreshTokens,
  revokeFamily,
  spendRefreshToken,
} from './refresh-tokens.ts';
import type { LoginTokens, TokenPair } from './schemas.ts';
import {
  type AccountLock,
  claimLockReport,
  type LoginAttempt,
  purgeThrottle,
  recordSuccessfulLogin,
  reserveLoginAttempt,
  type ThrottlePolicy,
} from './throttle.ts';

export type SessionsDeps = {
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  tokens: TokenIssuer;
  logger: Logger;
  refreshTokenTtlSeconds: number;
  deviceTokens: DeviceTokenPolicy;
  /** The throttle's and device tokens' clock; tests move it instead of waiting. */
  clock: () => Date;
  throttle: ThrottlePolicy;
};

// One answer for an unknown email and a wrong password, so neither reveals the other.
const invalidCredentials = () => new AppError('unauthenticated', 'the email or password is wrong');
const invalidRefreshToken = () =>
  new AppError('unauthenticated', 'the refresh token is not valid; log in again');
// Only said once the credential checked out, so it reveals nothing to a guesser.
const accountDisabled = () => new AppError('forbidden', 'this account is disabled');

/** A refresh token stored in the family and an access token for the user as they are now. */
export async function issuePair(
  deps: Pick<SessionsDeps, 'tokens' | 'refreshTokenTtlSeconds'>,
  user: Pick<User, 'id' | 'role' | 'emailVerifiedAt'>,
  familyId: string,
  db: Transaction<UsersTables>,
): Promise<TokenPair> {
  const refresh = newOpaqueToken();
  await insertRefreshToken(db, {
    hash: refresh.hash,
    familyId,
    ttlSeconds: deps.refreshTokenTtlSeconds,
  });
  const { accessToken, expiresIn } = await deps.tokens.issueAccessToken({
    userId: user.id,
    role: user.role,
    sessionId: familyId,
    emailVerified: user.emailVerifiedAt !== null,
  });
  return { accessToken, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn };
}

/** Tells the owner (through notifications) that the cap tripped; once per window. */
async function reportLock(deps: SessionsDeps, email: string, lock: AccountLock): Promise<void> {
  const userId = await deps.db.transaction().execute(async (trx) => {
    const user = await findUserByEmail(trx, email);
    // Nobody to tell about guesses at an address that has no account.
    if (!user || !(await claimLockReport(trx, email))) return undefined;
    const data = {
      userId: user.id,
      email: user.email,
      until: lock.until.toISOString(),
      attempts: lock.attempts,
    };
    await enqueueEvent(trx, buildEvent('user.login_locked', data, { source: serviceName }));
    return user.id;
  });
  if (!userId) return;
  deps.outbox.wake();
  deps.logger.warn('account-wide login cap reached; owner told', { userId, until: lock.until });
}

/** Checks the password after the attempt is counted; a miss with a device token counts against it. */
async function checkPassword(
  deps: SessionsDeps,
  attempt: LoginAttempt & { password: string; device: string | undefined },
): Promise<User> {
  const user = await findUserByEmail(deps.db, attempt.email);
  // An unknown email still pays for one hash, so it takes as long as a wrong password.
  const valid = await verifyPassword(attempt.password, user?.passwordHash ?? decoyHash);
  if (user && valid) return user;
  const { device, address: clientAddress } = attempt;
  const { maxFailures } = deps.deviceTokens;
  if (device && (await recordDeviceFailure(deps.db, device, maxFailures, attempt.now))) {
    deps.logger.warn('device token revoked after repeated wrong passwords', { clientAddress });
  }
  deps.logger.info('login failed', { clientAddress });
  throw invalidCredentials();
}

/**
 * Logs in. A live `deviceToken` of the account (from an earlier login's answer) exempts the
 * attempt from the account-wide cap; any other value is ignored as if absent. Answers the
 * presented device token when it was live, and a new one otherwise.
 */
export async function login(
  deps: SessionsDeps,
  credentials: { email: string; password: string; deviceToken?: string },
  clientAddress: string | undefined,
): Promise<LoginTokens> {
  const { email, password, deviceToken } = credentials;
  const now = deps.clock();
  const device =
    deviceToken === undefined
      ? undefined
      : await findTrustedDevice(deps.db, deviceToken, email, now);
  const attempt = { email, address: clientAddress, trustedDevice: device !== undefined, now };
  const lock = await reserveLoginAttempt(deps.db, attempt, deps.throttle);
  if (lock) await reportLock(deps, email, lock);
  const user = await checkPassword(deps, { ...attempt, password, device });
  if (user.status === 'disabled') throw accountDisabled();
  await recordSuccessfulLogin(deps.db, attempt, deps.throttle);
  return deps.db.transaction().execute(async (trx) => {
    const familyId = await createFamily(trx, user.id);
    deps.logger.info('login', { userId: user.id, familyId, knownDevice: device !== undefined });
    const pair = await issuePair(deps, user, familyId, trx);
    if (device && deviceToken && (await resetDeviceFailures(trx, device))) {
      return { ...pair, deviceToken };
    }
    const ttl = deps.deviceTokens.ttlSeconds;
    return { ...pair, deviceToken: await issueDeviceToken(trx, user.id, ttl, now) };
  });
}

/**
 * Spends the refresh token and returns a new pair in the same family. A token that was
 * already spent means two parties hold it (RFC 9700 section 4.14.2): the whole family is
 * revoked, so the thief's copy and the owner's dies alike and the owner logs in again.
 */
export async function refresh(deps: SessionsDeps, refreshToken: string): Promise<TokenPair> {
  const hash = hashOpaqueToken(refreshToken);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const spent = await spendRefreshToken(trx, hash);
    if (!spent) return { reused: await findRefreshToken(trx, hash) };
    const user = await findUserById(trx, spent.userId);
    if (!user) return { reused: undefined };
    // Rolls the spend back: the token stays as it was.
    if (user.status === 'disabled') throw accountDisabled();
    return { pair: await issuePair(deps, user, spent.familyId, trx) };
  });
  if ('pair' in outcome && outcome.pair) return outcome.pair;
  const reused = 'reused' in outcome ? outcome.reused : undefined;
  if (reused?.spent) {
    await revokeFamily(deps.db, reused.familyId, 'reuse');
    deps.logger.warn('refresh token reused; family revoked', { familyId: reused.familyId });
  }
  throw invalidRefreshToken();
}

/**
 * Ends the login the refresh token belongs to and publishes `user.signed_out`; an unknown
 * token is already logged out. A `deviceToken` of the same user is revoked too ("forget
 * this device"); one of another user is ignored.
 */
export async function logout(
  deps: SessionsDeps,
  body: { refreshToken: string; deviceToken?: string },
): Promise<void> {
  const token = await findRefreshToken(deps.db, hashOpaqueToken(body.refreshToken));
  if (!token) return;
  const { familyId, userId } = token;
  const ended = await deps.db.transaction().execute(async (trx) => {
    if (body.deviceToken !== undefined) {
      await revokeDeviceToken(trx, body.deviceToken, userId, deps.clock());
    }
    if (!(await revokeFamily(trx, familyId, 'logout'))) return false;
    const data = { userId, sessionId: familyId };
    await enqueueEvent(trx, buildEvent('user.signed_out', data, { source: serviceName }));
    return true;
  });
  if (!ended) return;
  deps.outbox.wake();
  deps.logger.info('logout', { familyId });
}

/** Revokes every device token of the user, so every login of theirs faces the cap again. */
export async function forgetDevices(
  deps: Pick<SessionsDeps, 'db' | 'logger' | 'clock'>,
  userId: string,
): Promise<void> {
  const revoked = await revokeUserDevices(deps.db, userId, deps.clock());
  deps.logger.info('device tokens revoked', { userId, revoked });
}

/** Deletes expired and revoked refresh and device tokens and stale throttle entries; run periodically. */
export async function purgeSessions(
  deps: Pick<SessionsDeps, 'db' | 'logger' | 'clock'>,
): Promise<void> {
  const now = deps.clock();
  const purged = await purgeRefreshTokens(deps.db);
  const devices = await purgeDeviceTokens(deps.db, now);
  await purgeThrottle(deps.db, now);
  const accountTokens = await purgeAccountTokens(deps.db, now);
  deps.logger.info('expired and revoked sessions purged', { ...purged, devices, accountTokens });
}

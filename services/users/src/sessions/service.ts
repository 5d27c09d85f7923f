import { AppError, type Logger } from '@shop/platform';
import type { Role, TokenIssuer } from '@shop/platform/auth';
import type { Kysely, Transaction } from 'kysely';
import { decoyHash, verifyPassword } from '../accounts/password.ts';
import { findUserByEmail, findUserById } from '../accounts/repository.ts';
import type { UsersTables } from '../tables.ts';
import {
  createFamily,
  findRefreshToken,
  hashRefreshToken,
  insertRefreshToken,
  newRefreshToken,
  purgeRefreshTokens,
  revokeFamily,
  spendRefreshToken,
} from './refresh-tokens.ts';
import type { TokenPair } from './schemas.ts';
import { purgeThrottle, recordSuccessfulLogin, reserveLoginAttempt } from './throttle.ts';

export type SessionsDeps = {
  db: Kysely<UsersTables>;
  tokens: TokenIssuer;
  logger: Logger;
  refreshTokenTtlSeconds: number;
};

// One answer for an unknown email and a wrong password, so neither reveals the other.
const invalidCredentials = () => new AppError('unauthenticated', 'the email or password is wrong');
const invalidRefreshToken = () =>
  new AppError('unauthenticated', 'the refresh token is not valid; log in again');

async function issuePair(
  deps: SessionsDeps,
  user: { id: string; role: Role },
  familyId: string,
  db: Transaction<UsersTables>,
): Promise<TokenPair> {
  const refresh = newRefreshToken();
  await insertRefreshToken(db, {
    hash: refresh.hash,
    familyId,
    ttlSeconds: deps.refreshTokenTtlSeconds,
  });
  const { accessToken, expiresIn } = await deps.tokens.issueAccessToken({
    userId: user.id,
    role: user.role,
    sessionId: familyId,
  });
  return { accessToken, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn };
}

export async function login(
  deps: SessionsDeps,
  credentials: { email: string; password: string },
  clientAddress: string | undefined,
): Promise<TokenPair> {
  const { email, password } = credentials;
  await reserveLoginAttempt(deps.db, email, clientAddress);
  const user = await findUserByEmail(deps.db, email);
  // An unknown email still pays for one hash, so it takes as long as a wrong password.
  const valid = await verifyPassword(password, user?.passwordHash ?? decoyHash);
  if (!user || !valid) {
    deps.logger.info('login failed', { clientAddress });
    throw invalidCredentials();
  }
  await recordSuccessfulLogin(deps.db, email, clientAddress);
  return deps.db.transaction().execute(async (trx) => {
    const familyId = await createFamily(trx, user.id);
    deps.logger.info('login', { userId: user.id, familyId });
    return issuePair(deps, user, familyId, trx);
  });
}

/**
 * Spends the refresh token and returns a new pair in the same family. A token that was
 * already spent means two parties hold it (RFC 9700 section 4.14.2): the whole family is
 * revoked, so the thief's copy and the owner's dies alike and the owner logs in again.
 */
export async function refresh(deps: SessionsDeps, refreshToken: string): Promise<TokenPair> {
  const hash = hashRefreshToken(refreshToken);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const spent = await spendRefreshToken(trx, hash);
    if (!spent) return { reused: await findRefreshToken(trx, hash) };
    const user = await findUserById(trx, spent.userId);
    if (!user) return { reused: undefined };
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

/** Ends the login the token belongs to; an unknown token is already logged out. */
export async function logout(deps: SessionsDeps, refreshToken: string): Promise<void> {
  const token = await findRefreshToken(deps.db, hashRefreshToken(refreshToken));
  if (!token) return;
  await revokeFamily(deps.db, token.familyId, 'logout');
  deps.logger.info('logout', { familyId: token.familyId });
}

/** Deletes expired and revoked refresh tokens and stale throttle entries; run periodically. */
export async function purgeSessions(deps: Pick<SessionsDeps, 'db' | 'logger'>): Promise<void> {
  const purged = await purgeRefreshTokens(deps.db);
  await purgeThrottle(deps.db);
  deps.logger.info('expired and revoked sessions purged', purged);
}

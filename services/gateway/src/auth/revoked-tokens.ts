import { AppError, type Logger } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { failOpen } from '../rate-limit/fail-open.ts';
import { noteRejectedToken } from '../rate-limit/pre-auth.ts';

/** What of a verified access token decides whether it was ended. */
export type EndableToken = { tokenId: string; sessionId?: string | undefined };

export type RevokedTokens = {
  /**
   * Whether the token was ended: its `jti` revoked by logout or its session (`sid`) signed
   * out; false (counted, with a warning) while Redis does not answer.
   */
  isRevoked(token: EndableToken): Promise<boolean>;
  /** Refuses the token id until `expiresAt` (epoch seconds) has passed; a no-op while Redis does not answer. */
  revoke(tokenId: string, expiresAt: number): Promise<void>;
  /**
   * Refuses every access token of the session for as long as one issued before now can be
   * valid; throws while Redis does not answer, so the event is delivered again.
   */
  endSession(sessionId: string): Promise<void>;
};

export const revokedTokenKeyPrefix = 'gateway:revoked-jti:';
export const signedOutSessionKeyPrefix = 'gateway:signed-out-sid:';

/** What the gateway assumes when ACCESS_TOKEN_TTL_SECONDS is not set: users' default. */
export const defaultAccessTokenTtlSeconds = 900;

const logoutPath = '/api/v1/auth/logout';

// Kept this much past the token's exp: verifiers accept a token for a few seconds after
// it (clock tolerance), and replicas' clocks differ.
const keepPastExpirySeconds = 60;

/**
 * The access tokens ended by logout, by `jti`, and the sessions signed out (`sid`), in
 * the gateway's Redis (shared by every replica), each kept until shortly after the last
 * token it ends can expire and then forgotten. One token's check is one round trip.
 *
 * @example
 * const revoked = revokedTokens({ redis, logger, registry: app.metricsRegistry });
 * await revoked.revoke(user.tokenId, user.expiresAt);
 */
export function revokedTokens(options: {
  redis: Redis;
  logger: Logger;
  registry: Registry;
  now?: (() => number) | undefined;
  /** The longest an access token lives (users' ACCESS_TOKEN_TTL_SECONDS); 900 unless given. */
  accessTokenTtlSeconds?: number | undefined;
}): RevokedTokens {
  const { redis, logger } = options;
  const now = options.now ?? Date.now;
  const sessionTtlSeconds = options.accessTokenTtlSeconds ?? defaultAccessTokenTtlSeconds;
  const unchecked = failOpen({
    ...options,
    metric: 'gateway_revocation_unchecked_total',
    help: 'Access tokens let through without the revocation check because Redis did not answer',
    warning: 'revoked-token store unavailable; tokens pass unchecked',
  });
  return {
    async isRevoked({ tokenId, sessionId }) {
      const keys = [`${revokedTokenKeyPrefix}${tokenId}`];
      if (sessionId !== undefined) keys.push(`${signedOutSessionKeyPrefix}${sessionId}`);
      try {
        return (await redis.exists(...keys)) > 0;
      } catch (error) {
        unchecked(error);
        return false;
      }
    },
    async revoke(tokenId, expiresAt) {
      const seconds = Math.ceil(expiresAt - now() / 1000) + keepPastExpirySeconds;
      try {
        await redis.set(`${revokedTokenKeyPrefix}${tokenId}`, '1', 'EX', seconds);
      } catch (error) {
        logger.warn('revoked-token store unavailable; a logged-out token stays valid', {
          error,
          expiresAt,
        });
      }
    },
    async endSession(sessionId) {
      // Its tokens were all issued by now, so none outlives now plus their lifetime.
      const seconds = sessionTtlSeconds + keepPastExpirySeconds;
      await redis.set(`${signedOutSessionKeyPrefix}${sessionId}`, '1', 'EX', seconds);
    },
  };
}

/**
 * The verifier, refusing (401) a token whose `jti` was revoked by logout or whose session
 * was signed out; every route that checks tokens through it (the proxy and GraphQL)
 * refuses it alike.
 */
export function refusingRevoked(
  verifier: Pick<TokenVerifier, 'verify'>,
  revoked: Pick<RevokedTokens, 'isRevoked'>,
): Pick<TokenVerifier, 'verify'> {
  return {
    async verify(token) {
      const verified = await verifier.verify(token);
      const ended = { tokenId: verified.jti, sessionId: verified.sessionId };
      if (await revoked.isRevoked(ended)) {
        throw new AppError('unauthenticated', 'the access token was ended by a logout or sign-out');
      }
      return verified;
    },
  };
}

/**
 * After a successful logout (POST /api/v1/auth/logout, which ends the refresh token's
 * login at users), revokes the access token it carries as a bearer token, if valid. A
 * missing or bad one does not undo the logout: the answer stays the service's.
 */
export function revokeOnLogout(
  verifier: Pick<TokenVerifier, 'verify'>,
  revoked: Pick<RevokedTokens, 'revoke'>,
  logger: Logger,
): MiddlewareHandler {
  const verify = authenticate(verifier);
  return async (c, next) => {
    if (c.req.method !== 'POST' || c.req.path !== logoutPath) return next();
    await next();
    if (!c.res.ok || !c.req.header('authorization')) return;
    let verified = false;
    try {
      await verify(c, async () => {
        verified = true;
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthenticated') noteRejectedToken(c);
      else logger.warn('the logged-out access token could not be checked', { error });
    }
    if (verified) await revoked.revoke(c.get('user').tokenId, c.get('user').expiresAt);
  };
}

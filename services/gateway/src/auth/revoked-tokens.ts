import { AppError, type Logger } from '@shop/platform';
import { authenticate, type TokenVerifier } from '@shop/platform/auth';
import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { failOpen } from '../rate-limit/fail-open.ts';
import { noteRejectedToken } from '../rate-limit/pre-auth.ts';

export type RevokedTokens = {
  /** Whether the token id was revoked; false (counted, with a warning) while Redis does not answer. */
  isRevoked(tokenId: string): Promise<boolean>;
  /** Refuses the token id until `expiresAt` (epoch seconds) has passed; a no-op while Redis does not answer. */
  revoke(tokenId: string, expiresAt: number): Promise<void>;
};

export const revokedTokenKeyPrefix = 'gateway:revoked-jti:';

const logoutPath = '/api/v1/auth/logout';

// Kept this much past the token's exp: verifiers accept a token for a few seconds after
// it (clock tolerance), and replicas' clocks differ.
const keepPastExpirySeconds = 60;

/**
 * The access tokens ended by logout, by `jti`, in the gateway's Redis (shared by every
 * replica), each kept until shortly after its own expiry and then forgotten.
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
}): RevokedTokens {
  const { redis, logger } = options;
  const now = options.now ?? Date.now;
  const unchecked = failOpen({
    ...options,
    metric: 'gateway_revocation_unchecked_total',
    help: 'Access tokens let through without the revocation check because Redis did not answer',
    warning: 'revoked-token store unavailable; tokens pass unchecked',
  });
  return {
    async isRevoked(tokenId) {
      try {
        return (await redis.exists(`${revokedTokenKeyPrefix}${tokenId}`)) === 1;
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
  };
}

/**
 * The verifier, refusing (401) a token whose `jti` was revoked by logout; every route that
 * checks tokens through it (the proxy and GraphQL) refuses it alike.
 */
export function refusingRevoked(
  verifier: Pick<TokenVerifier, 'verify'>,
  revoked: Pick<RevokedTokens, 'isRevoked'>,
): Pick<TokenVerifier, 'verify'> {
  return {
    async verify(token) {
      const verified = await verifier.verify(token);
      if (await revoked.isRevoked(verified.jti)) {
        throw new AppError('unauthenticated', 'the access token was ended by logout');
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

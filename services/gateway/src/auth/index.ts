import type { Logger } from '@shop/platform';
import type { TokenVerifier } from '@shop/platform/auth';
import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { RateLimitBudget } from '../config.ts';
import { defaultUnverifiedBudget, preAuthLimit } from '../rate-limit/pre-auth.ts';
import {
  type RevokedTokens,
  refusingRevoked,
  revokedTokens,
  revokeOnLogout,
} from './revoked-tokens.ts';

export {
  defaultAccessTokenTtlSeconds,
  type RevokedTokens,
  revokedTokenKeyPrefix,
  revokedTokens,
  signedOutSessionKeyPrefix,
} from './revoked-tokens.ts';

export type TokenChecks = {
  /** The verifier every route must use: it refuses tokens ended by logout. */
  verifier: Pick<TokenVerifier, 'verify'>;
  /** To mount, in order, on every path before the routes (`app.use('*', ...)`). */
  middleware: MiddlewareHandler[];
  /** Where `user.signed_out` ends a session (see gatewayEvents). */
  revoked: Pick<RevokedTokens, 'endSession'>;
};

/**
 * What guards token verification at the gateway, over its Redis: the per-address budget
 * of failed token checks, spent and checked before any signature is (see preAuthLimit),
 * and the access tokens ended by logout (recorded on a successful logout) or by their
 * session's end (`user.signed_out`), refused by the verifier this returns.
 *
 * @example
 * const checks = tokenChecks({ redis, verifier, logger, registry: app.metricsRegistry, trustedProxyHops: 0 });
 * for (const middleware of checks.middleware) app.use('*', middleware);
 * app.route('/', proxyRoutes({ ...deps, verifier: checks.verifier }));
 */
export function tokenChecks(options: {
  redis: Redis;
  verifier: Pick<TokenVerifier, 'verify'>;
  logger: Logger;
  registry: Registry;
  trustedProxyHops: number;
  /** Failed token checks allowed per client address; 60 a minute unless given. */
  unverified?: RateLimitBudget | undefined;
  /** The clock of revocations and of the warnings while Redis is down; Date.now unless given. */
  now?: (() => number) | undefined;
  /** The longest an access token lives (users' ACCESS_TOKEN_TTL_SECONDS); 900 unless given. */
  accessTokenTtlSeconds?: number | undefined;
}): TokenChecks {
  const revoked = revokedTokens(options);
  const verifier = refusingRevoked(options.verifier, revoked);
  return {
    verifier,
    revoked,
    middleware: [
      preAuthLimit({ ...options, budget: options.unverified ?? defaultUnverifiedBudget }),
      revokeOnLogout(verifier, revoked, options.logger),
    ],
  };
}

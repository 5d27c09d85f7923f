import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type LocalJWKSet,
} from 'jose';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { accessTokenType, type Role, roles, signingAlgorithm } from './access-token.ts';

export type TokenVerifierOptions = {
  /** Fetches the issuer's public keys, e.g. {@link jwksViaDapr}. */
  fetchJwks: () => Promise<JSONWebKeySet>;
  issuer: string;
  audience: string;
  clockToleranceSeconds?: number;
  logger: Logger;
};

export type VerifiedAccessToken = {
  userId: string;
  role: Role;
  jti: string;
  expiresAt: Date;
  /** The `sid` claim: the login (refresh-token family) the token was issued for, if any. */
  sessionId?: string;
  /** The `email_verified` claim; false when absent (tokens issued before it existed). */
  emailVerified: boolean;
};

export type TokenVerifier = {
  /**
   * Resolves with the token's subject, or throws AppError `unauthenticated` (401) for any
   * token that is not a valid access token, or `upstream_unavailable` (503) while no keys
   * have been fetched yet.
   */
  verify(token: string): Promise<VerifiedAccessToken>;
};

// Ours are ~400 characters; this bounds the work a garbage header can cause.
const maxTokenLength = 4096;
// A kid the cached set does not know triggers a refetch at most this often, so tokens with
// made-up kids cannot turn into a stream of calls to the users service.
const minRefetchIntervalMs = 30_000;
// With no keys at all, each request would otherwise fetch; while the issuer is down, answer
// 503 from memory between attempts.
const coldRetryIntervalMs = 1_000;
// Cached keys are refetched after this long even without an unknown kid, so a key dropped
// by a second rotation stops being trusted.
const maxJwksAgeMs = 5 * 60_000;

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(roles),
  jti: z.string().min(1),
  iat: z.number(),
  exp: z.number(),
  sid: z.string().min(1).max(200).optional(),
  email_verified: z.boolean().optional(),
});

/** A gate that opens at most once per `intervalMs`. */
function pacer(intervalMs: number): () => boolean {
  let openedAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - openedAt < intervalMs) return false;
    openedAt = now;
    return true;
  };
}

function rejected(description: string): AppError {
  return new AppError('unauthenticated', description);
}

function isAccessTokenType(typ: unknown): boolean {
  // RFC 9068 allows the full media type too; media types compare case-insensitively.
  return (
    typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === accessTokenType
  );
}

// Our own words for each failure: they end up in a quoted WWW-Authenticate parameter, and
// jose's messages contain quotes.
function describe(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'the access token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.reason === 'missing'
      ? `the access token has no ${error.claim} claim`
      : `the access token has an unacceptable ${error.claim} claim`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `the access token is not signed with ${signingAlgorithm}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'the access token is signed with an unknown key';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'the access token signature is invalid';
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return 'the access token is malformed';
  }
  return 'the access token is invalid';
}

/**
 * The issuer's keys, fetched on first need and cached: refetched when older than
 * `maxJwksAgeMs` or when a token names a kid the set does not know, each paced so that
 * garbage tokens cannot turn into a stream of fetches.
 */
function issuerKeys(fetchJwks: () => Promise<JSONWebKeySet>, logger: Logger) {
  let cache: { keyFor: LocalJWKSet; fetchedAt: number } | undefined;
  let fetching: Promise<void> | undefined;
  const coldRetry = pacer(coldRetryIntervalMs);
  const staleRefetch = pacer(minRefetchIntervalMs);
  const unknownKidRefetch = pacer(minRefetchIntervalMs);

  const fetchKeys = () => {
    // Concurrent requests that all need fresh keys share one fetch.
    fetching ??= (async () => {
      try {
        cache = { keyFor: createLocalJWKSet(await fetchJwks()), fetchedAt: Date.now() };
      } finally {
        fetching = undefined;
      }
    })();
    return fetching;
  };

  /** Joins the fetch in flight or, if `allowed` says so, starts one; false if no keys came of it. */
  const refetch = async (allowed: () => boolean): Promise<boolean> => {
    if (!fetching && !allowed()) return false;
    try {
      await fetchKeys();
      return true;
    } catch (error) {
      logger.warn('fetching the token signing keys failed', { error });
      return false;
    }
  };

  const cachedKeys = () => {
    if (!cache) {
      throw new AppError('upstream_unavailable', 'token keys are unavailable; try again shortly', {
        headers: { 'retry-after': '1' },
      });
    }
    return cache;
  };

  return async (header: JWSHeaderParameters) => {
    // Checked before any key lookup, so tokens that could never pass do not cause fetches.
    if (!isAccessTokenType(header.typ)) throw rejected('the token is not an access token');
    if (typeof header.kid !== 'string') throw rejected('the access token has no key id');

    if (!cache) await refetch(coldRetry);
    else if (Date.now() - cache.fetchedAt > maxJwksAgeMs) await refetch(staleRefetch);

    try {
      return await cachedKeys().keyFor(header);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (!(await refetch(unknownKidRefetch))) throw error;
      return cachedKeys().keyFor(header);
    }
  };
}

type KeyLookup = ReturnType<typeof issuerKeys>;

/** The token's payload once its signature, issuer, audience and times check out. */
async function verifySigned(
  token: string,
  keyFor: KeyLookup,
  options: { issuer: string; audience: string; clockToleranceSeconds: number },
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keyFor, {
      algorithms: [signingAlgorithm],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds,
      requiredClaims: ['sub', 'role', 'jti', 'iat', 'exp'],
    });
    return payload;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof errors.JOSEError) throw rejected(describe(error));
    throw error;
  }
}

/** Our claims from a verified payload, refusing any we cannot use. */
function accessTokenOf(payload: JWTPayload, clockToleranceSeconds: number): VerifiedAccessToken {
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const claim = claims.error.issues[0]?.path.join('.');
    throw rejected(`the access token has an unacceptable ${claim} claim`);
  }
  const { sub, role, jti, iat, exp, sid, email_verified } = claims.data;
  // jose checks iat only together with maxTokenAge; a token from the future is forged
  // or from a badly wrong clock, and either way not ours to accept.
  if (iat > Date.now() / 1000 + clockToleranceSeconds) {
    throw rejected('the access token was issued in the future');
  }
  const emailVerified = email_verified === true;
  const verified = { userId: sub, role, jti, expiresAt: new Date(exp * 1000), emailVerified };
  return sid === undefined ? verified : { ...verified, sessionId: sid };
}

/**
 * Verifies access tokens against the issuer's JWKS, which it caches; an unknown kid
 * refetches the set once (at most once per 30 s), so a key rotation needs no restart.
 *
 * @example
 * const verifier = createTokenVerifier({
 *   fetchJwks: jwksViaDapr(sidecar.invoke),
 *   issuer: 'urn:shop:users',
 *   audience: 'urn:shop:api',
 *   logger,
 * });
 * app.use('/api/v1/orders/*', authenticate(verifier));
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience, clockToleranceSeconds = 5 } = options;
  const keyFor = issuerKeys(options.fetchJwks, options.logger);
  return {
    async verify(token) {
      if (token.length > maxTokenLength) throw rejected('the access token is too long');
      const payload = await verifySigned(token, keyFor, {
        issuer,
        audience,
        clockToleranceSeconds,
      });
      return accessTokenOf(payload, clockToleranceSeconds);
    },
  };
}

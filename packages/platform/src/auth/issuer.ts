import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { accessTokenType, type Role, signingAlgorithm } from './access-token.ts';
import type { Keyring } from './keyring.ts';

export type TokenIssuerOptions = {
  keyring: Pick<Keyring, 'current'>;
  issuer: string;
  audience: string;
  ttlSeconds?: number;
};

export type IssuedAccessToken = {
  accessToken: string;
  /** Seconds until the token expires, as OAuth's `expires_in`. */
  expiresIn: number;
  /** The token's id, for audit logs and revocation lists. */
  jti: string;
};

export type AccessTokenSubject = {
  userId: string;
  role: Role;
  /** The login (refresh-token family) the token is issued for; becomes the `sid` claim. */
  sessionId?: string;
  /** Whether the account's email address is verified; becomes the `email_verified` claim. */
  emailVerified?: boolean;
};

export type TokenIssuer = {
  issueAccessToken(subject: AccessTokenSubject): Promise<IssuedAccessToken>;
};

/**
 * Signs access tokens (RFC 9068 `at+jwt`) with the keyring's current key.
 *
 * @example
 * const tokens = createTokenIssuer({ keyring, issuer: 'urn:shop:users', audience: 'urn:shop:api' });
 * const { accessToken, expiresIn } = await tokens.issueAccessToken({
 *   userId: user.id,
 *   role: user.role,
 *   sessionId: familyId,
 *   emailVerified: true,
 * });
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const { keyring, issuer, audience, ttlSeconds = 900 } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`ttlSeconds must be a positive whole number, not ${ttlSeconds}`);
  }
  return {
    async issueAccessToken({ userId, role, sessionId, emailVerified }) {
      const { kid, privateKey } = keyring.current();
      const jti = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      // `sid` as in OpenID Connect: lets services end what a logout ends (streams, jti lists).
      const claims = {
        role,
        ...(sessionId === undefined ? {} : { sid: sessionId }),
        // As OpenID Connect names it; lets a service ask for a verified address (orders).
        ...(emailVerified === undefined ? {} : { email_verified: emailVerified }),
      };
      const accessToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: signingAlgorithm, kid, typ: accessTokenType })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(userId)
        .setJti(jti)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
      return { accessToken, expiresIn: ttlSeconds, jti };
    },
  };
}

/**
 * The one algorithm access tokens are signed with, and the only one verifiers accept:
 * Ed25519 (RFC 8037). Pinning it is what makes `alg: none` and HS256-with-the-public-key
 * forgeries fail before any key is looked at.
 */
export const signingAlgorithm = 'EdDSA';

/**
 * RFC 9068's `typ` for access tokens, so no other JWT that a key of ours might ever sign
 * can be presented as one.
 */
export const accessTokenType = 'at+jwt';

/** The roles an access token can carry; anything else is rejected. */
export const roles = ['customer', 'admin'] as const;

export type Role = (typeof roles)[number];

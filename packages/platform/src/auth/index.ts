export { accessTokenType, type Role, roles, signingAlgorithm } from './access-token.ts';
export { tokenVerifierViaDapr } from './dapr-verifier.ts';
export {
  createTokenIssuer,
  type IssuedAccessToken,
  type TokenIssuer,
  type TokenIssuerOptions,
} from './issuer.ts';
export { jwksPath, jwksSchema, jwksViaDapr } from './jwks-via-dapr.ts';
export { createKeyring, type Keyring, type KeyringOptions } from './keyring.ts';
export { type AuthenticatedUser, authenticate, requireRole } from './middleware.ts';
export {
  generateSigningKeySet,
  loadSigningKeys,
  parseSigningKeySet,
  rotateSigningKeySet,
  type SigningKey,
  type SigningKeySet,
  type SigningKeys,
  signingKeysSecretName,
} from './signing-keys.ts';
export {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedAccessToken,
} from './verifier.ts';

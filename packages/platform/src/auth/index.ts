export { type Role, roles } from './access-token.ts';
export { tokenVerifierViaDapr } from './dapr-verifier.ts';
export { type AccessTokenSubject, createTokenIssuer, type TokenIssuer } from './issuer.ts';
export { jwksPath, jwksSchema } from './jwks-via-dapr.ts';
export { createKeyring, type Keyring } from './keyring.ts';
export { type AuthenticatedUser, authenticate, requireRole } from './middleware.ts';
export {
  generateSigningKeySet,
  loadSigningKeys,
  parseSigningKeySet,
  rotateSigningKeySet,
  signingKeysSecretName,
} from './signing-keys.ts';
export {
  createTokenVerifier,
  type TokenVerifier,
  type VerifiedAccessToken,
} from './verifier.ts';

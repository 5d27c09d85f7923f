export { type Role, roles } from './access-token.ts';
export { tokenVerifierViaDapr } from './dapr-verifier.ts';
export { createTokenIssuer, type TokenIssuer } from './issuer.ts';
export { jwksPath, jwksSchema } from './jwks-via-dapr.ts';
export { createKeyring, type Keyring } from './keyring.ts';
export { authenticate, requireRole } from './middleware.ts';
export {
  generateSigningKeySet,
  loadSigningKeys,
  parseSigningKeySet,
  rotateSigningKeySet,
  signingKeysSecretName,
} from './signing-keys.ts';
export { createTokenVerifier, type TokenVerifier } from './verifier.ts';

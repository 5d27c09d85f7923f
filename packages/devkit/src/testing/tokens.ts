import { createLogger } from '@shop/platform';
import {
  createKeyring,
  createTokenIssuer,
  createTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type Role,
  signingKeysSecretName,
  type TokenVerifier,
} from '@shop/platform/auth';

export const testTokenSettings = { issuer: 'urn:shop:users', audience: 'urn:shop:api' };

/**
 * Real signing keys and a verifier for them, for tests of services that check tokens.
 *
 * @example
 * const tokens = await createTestTokens();
 * const app = createApp({ ...deps, verifier: tokens.verifier });
 * await app.request('/api/v1/orders', { headers: { authorization: `Bearer ${await tokens.issue('u-1')}` } });
 */
export async function createTestTokens(): Promise<{
  /** `sessionId` becomes the token's `sid` claim, `emailVerified` its `email_verified`. */
  issue(
    userId: string,
    role?: Role,
    options?: { sessionId?: string; emailVerified?: boolean },
  ): Promise<string>;
  verifier: TokenVerifier;
}> {
  const logger = createLogger({ service: 'test', write: () => {} });
  const keySet = JSON.stringify(await generateSigningKeySet());
  const keyring = await createKeyring({
    load: () => loadSigningKeys(async () => ({ [signingKeysSecretName]: keySet })),
    logger,
  });
  // The keys never change in a test, so nothing needs reloading.
  keyring.stop();
  const issuer = createTokenIssuer({ keyring, ...testTokenSettings });
  return {
    issue: async (userId, role = 'customer', options = {}) =>
      (await issuer.issueAccessToken({ userId, role, ...options })).accessToken,
    verifier: createTokenVerifier({
      fetchJwks: async () => keyring.jwks(),
      ...testTokenSettings,
      logger,
    }),
  };
}

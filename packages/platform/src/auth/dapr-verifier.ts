import type { Sidecar } from '../dapr/sidecar.ts';
import type { Logger } from '../logger.ts';
import { jwksViaDapr } from './jwks-via-dapr.ts';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';

/**
 * The verifier every service but users builds: the public keys come from users through
 * Dapr, issuer and audience from the service's `accessTokenEnv` settings.
 *
 * @example
 * const verifier = tokenVerifierViaDapr({ config, sidecar, logger });
 * app.use('/api/v1/orders/*', authenticate(verifier));
 */
export function tokenVerifierViaDapr(options: {
  config: { JWT_ISSUER: string; JWT_AUDIENCE: string; JWKS_APP_ID: string };
  sidecar: Pick<Sidecar, 'invoke'>;
  logger: Logger;
}): TokenVerifier {
  const { config, sidecar, logger } = options;
  return createTokenVerifier({
    fetchJwks: jwksViaDapr(sidecar.invoke, config.JWKS_APP_ID),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    logger,
  });
}

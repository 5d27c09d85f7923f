import { createServiceApp, type Logger } from '@shop/platform';
import {
  authenticate,
  createTokenIssuer,
  createTokenVerifier,
  type Keyring,
} from '@shop/platform/auth';
import type { OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { registrationRoutes, userRoutes } from './accounts/routes.ts';
import { serviceName, type UsersConfig } from './config.ts';
import { sessionRoutes } from './sessions/routes.ts';
import { signingKeyRoutes } from './signing-keys/routes.ts';
import type { UsersTables } from './tables.ts';

export type UsersDeps = {
  config: Pick<
    UsersConfig,
    | 'APP_API_TOKEN'
    | 'REFRESH_TOKEN_TTL_DAYS'
    | 'ACCESS_TOKEN_TTL_SECONDS'
    | 'JWT_ISSUER'
    | 'JWT_AUDIENCE'
  >;
  logger: Logger;
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  keyring: Pick<Keyring, 'current' | 'jwks'>;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: UsersDeps) {
  const app = createServiceApp({
    service: serviceName,
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    // Clients come through the gateway, which throttles and checks paths first.
    publicApiCallers: ['gateway'],
    readiness: deps.readiness,
  });
  const { keyring, config, logger } = deps;
  const settings = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  const tokens = createTokenIssuer({
    keyring,
    ...settings,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  // This service holds the keys itself, so it verifies against them without a fetch.
  const verifier = createTokenVerifier({
    fetchJwks: async () => keyring.jwks(),
    ...settings,
    logger,
  });
  const sessions = {
    ...deps,
    tokens,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_DAYS * 24 * 3600,
  };
  app.route('/', signingKeyRoutes(deps));
  app.route('/api/v1/auth', registrationRoutes(deps));
  app.route('/api/v1/auth', sessionRoutes(sessions));
  app.use('/api/v1/users/*', authenticate(verifier));
  app.route('/api/v1/users', userRoutes(deps));
  return app;
}

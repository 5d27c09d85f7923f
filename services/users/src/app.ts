import { createServiceApp, type Logger, requireCaller } from '@shop/platform';
import {
  authenticate,
  jwksPath,
  type Keyring,
  type TokenIssuer,
  type TokenVerifier,
} from '@shop/platform/auth';
import type { OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { registrationRoutes, userRoutes } from './accounts/routes.ts';
import type { UsersConfig } from './config.ts';
import { sessionRoutes } from './sessions/routes.ts';
import type { UsersTables } from './tables.ts';

export type UsersDeps = {
  config: Pick<UsersConfig, 'APP_API_TOKEN' | 'REFRESH_TOKEN_TTL_DAYS'>;
  logger: Logger;
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  keyring: Pick<Keyring, 'jwks'>;
  tokens: TokenIssuer;
  verifier: Pick<TokenVerifier, 'verify'>;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
};

export function createApp(deps: UsersDeps) {
  const app = createServiceApp({
    service: 'users',
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    readiness: deps.readiness,
  });
  const sessions = {
    ...deps,
    refreshTokenTtlSeconds: deps.config.REFRESH_TOKEN_TTL_DAYS * 24 * 3600,
  };
  // Other services fetch the public keys through Dapr; browsers through the gateway.
  app.get(jwksPath, (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(deps.keyring.jwks());
  });
  app.use('/api/v1/*', requireCaller('gateway'));
  app.route('/api/v1/auth', registrationRoutes(deps));
  app.route('/api/v1/auth', sessionRoutes(sessions));
  app.use('/api/v1/users/*', authenticate(deps.verifier));
  app.route('/api/v1/users', userRoutes(deps));
  return app;
}

import { createServiceAppBehindGateway, type Logger } from '@shop/platform';
import {
  authenticate,
  createTokenIssuer,
  createTokenVerifier,
  type Keyring,
  requireRole,
} from '@shop/platform/auth';
import { type OutboxRelay, registerOutboxMetrics } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { registrationRoutes, userRoutes } from './accounts/routes.ts';
import { adminUserRoutes } from './admin/routes.ts';
import { serviceName, type UsersConfig } from './config.ts';
import { deviceRoutes, sessionRoutes } from './sessions/routes.ts';
import { type ThrottlePolicy, throttlePolicy } from './sessions/throttle.ts';
import { signingKeyRoutes } from './signing-keys/routes.ts';
import type { UsersTables } from './tables.ts';

export type UsersDeps = {
  config: Pick<
    UsersConfig,
    | 'APP_API_TOKEN'
    | 'REFRESH_TOKEN_TTL_DAYS'
    | 'DEVICE_TOKEN_TTL_DAYS'
    | 'DEVICE_TOKEN_MAX_FAILURES'
    | 'ACCESS_TOKEN_TTL_SECONDS'
    | 'JWT_ISSUER'
    | 'JWT_AUDIENCE'
  >;
  logger: Logger;
  db: Kysely<UsersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  keyring: Pick<Keyring, 'current' | 'jwks'>;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
  /** The clock of the login throttle, device tokens and mailed tokens; the wall clock unless a test moves it. */
  clock?: () => Date;
  /** The login throttle's limits; `throttlePolicy` unless a test needs smaller ones. */
  throttle?: ThrottlePolicy;
};

export function createApp(deps: UsersDeps) {
  const app = createServiceAppBehindGateway(serviceName, deps);
  const { keyring, config, logger } = deps;
  registerOutboxMetrics({ registry: app.metricsRegistry, db: deps.db, logger });
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
    deviceTokens: {
      ttlSeconds: config.DEVICE_TOKEN_TTL_DAYS * 24 * 3600,
      maxFailures: config.DEVICE_TOKEN_MAX_FAILURES,
    },
    clock: deps.clock ?? (() => new Date()),
    throttle: deps.throttle ?? throttlePolicy,
  };
  app.route('/', signingKeyRoutes(deps));
  app.route('/api/v1/auth', registrationRoutes(sessions));
  app.route('/api/v1/auth', sessionRoutes(sessions));
  app.use('/api/v1/users/*', authenticate(verifier));
  app.route('/api/v1/users', userRoutes(sessions));
  app.route('/api/v1/users', deviceRoutes(sessions));
  // Matches its prefix itself too; a second use() for it would verify twice.
  app.use('/api/v1/admin/users/*', authenticate(verifier), requireRole('admin'));
  app.route('/api/v1/admin/users', adminUserRoutes(sessions));
  return app;
}

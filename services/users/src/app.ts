import { createServiceApp, type Logger, type Sidecar } from '@shop/platform';
import type { UserRepository } from './accounts/repository.ts';
import { authRoutes } from './accounts/routes.ts';
import type { UsersConfig } from './config.ts';

export type UsersDeps = {
  config: Pick<UsersConfig, 'APP_API_TOKEN'>;
  logger: Logger;
  sidecar: Pick<Sidecar, 'publish' | 'ready'>;
  users: UserRepository;
};

export function createApp(deps: UsersDeps) {
  const app = createServiceApp({
    service: 'users',
    logger: deps.logger,
    appApiToken: deps.config.APP_API_TOKEN,
    readiness: { sidecar: deps.sidecar.ready },
  });
  app.route('/api/v1/auth', authRoutes(deps));
  return app;
}

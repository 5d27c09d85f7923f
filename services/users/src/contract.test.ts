import { databaseBackends, describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { useUsersApp } from './test-support.ts';

describe.each(databaseBackends)('users on %s', (backend) => {
  const users = useUsersApp(backend);
  describeServiceContract({
    subject: () => ({ app: users.get().app, appApiToken: users.appApiToken }),
    publicRoute: { method: 'POST', path: '/api/v1/auth/register' },
    jsonRoute: { method: 'POST', path: '/api/v1/auth/login' },
  });
});

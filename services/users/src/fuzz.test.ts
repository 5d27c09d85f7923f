import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { password, uniqueEmail, useUsersApp } from './test-support.ts';

describe('users on postgres', () => {
  const users = useUsersApp('postgres');
  const tokens: string[] = [];
  // A customer's token and an admin's, so the fuzz gets past the role check of /admin/users.
  beforeAll(async () => {
    for (const role of ['customer', 'admin'] as const) {
      const email = uniqueEmail(`fuzz-${role}`);
      const body = { email, password, name: 'Fuzz' };
      expect((await users.call('POST', '/api/v1/auth/register', { body })).status).toBe(201);
      await users.get().db.updateTable('users').set({ role }).where('email', '=', email).execute();
      const login = await users.call('POST', '/api/v1/auth/login', { body: { email, password } });
      tokens.push(((await login.json()) as { accessToken: string }).accessToken);
    }
  });
  it.each(['Ada\u0000', 'Ada\nLovelace', '\uD800'])(
    'refuses the name %j with 400',
    async (name) => {
      const body = { email: uniqueEmail('nul'), password, name };
      const res = await users.call('POST', '/api/v1/auth/register', { body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );

  describeOperationFuzz({
    subject: () => ({ app: users.get().app, appApiToken: users.appApiToken, tokens }),
  });
});

import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { createLogger } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { password, uniqueEmail, useUsersApp } from '../test-support.ts';
import { ensureAdmin } from './service.ts';

describe.each(databaseBackends)('accounts on %s', (backend) => {
  const users = useUsersApp(backend);
  const ctx = { users, ...accountCalls(users) };

  registerCases(ctx);
  inputAndCallerCases(ctx);
  adminAccountCases(ctx);
});

type UsersApp = ReturnType<typeof useUsersApp>;
type Ctx = { users: UsersApp } & ReturnType<typeof accountCalls>;

/** A sign-up call, by default as the gateway makes it. */
function accountCalls(users: UsersApp) {
  const register = (body: unknown, caller?: string) =>
    users.call('POST', '/api/v1/auth/register', { body, ...(caller ? { caller } : {}) });
  return { register };
}

function registerCases({ users, register }: Ctx) {
  it('creates a customer with a normalised email, ignoring a requested role, and announces it', async () => {
    const email = uniqueEmail('ada');
    const res = await register({
      email: `  ${email.toUpperCase()} `,
      password,
      name: ' Ada ',
      role: 'admin',
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as { id: string };
    expect(user).toMatchObject({ email, name: 'Ada', role: 'customer' });
    expect(user).not.toHaveProperty('passwordHash');
    await users.get().outbox.drain();
    const events = users.published.filter(
      (e) => e.type === 'user.registered' && e.data.userId === user.id,
    );
    expect(events).toHaveLength(1);
  });

  it('answers 409 for an email taken in another case, and announces nothing for it', async () => {
    const email = uniqueEmail();
    expect((await register({ email, password, name: 'First' })).status).toBe(201);
    await users.get().outbox.drain();
    const before = users.published.length;
    const res = await register({ email: email.toUpperCase(), password, name: 'Second' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    await users.get().outbox.drain();
    expect(users.published.length).toBe(before);
  });

  it('lets exactly one of two racing sign-ups with one email win', async () => {
    const email = uniqueEmail('race');
    const statuses = await Promise.all(
      [1, 2, 3].map(() => register({ email, password, name: 'Racer' }).then((r) => r.status)),
    );
    expect(statuses.sort()).toEqual([201, 409, 409]);
  });
}

function inputAndCallerCases({ register }: Ctx) {
  it.each([
    [{ password: 'short', name: 'A' }, 'password'],
    [{ password: 'x'.repeat(129), name: 'A' }, 'password'],
    [{ email: 'not-an-email', password, name: 'A' }, 'email'],
    [{ password, name: '   ' }, 'name'],
    [{ password, name: 'n'.repeat(101) }, 'name'],
  ])('rejects %o with 400 naming %s', async (fields, field) => {
    const res = await register({ email: uniqueEmail(), ...fields });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain(field);
  });

  it('only takes calls the gateway made through Dapr', async () => {
    expect((await register({ email: uniqueEmail(), password, name: 'X' }, 'orders')).status).toBe(
      403,
    );
  });
}

function adminAccountCases({ users, register }: Ctx) {
  it('makes sure the configured admin exists, once, across restarts', async () => {
    const email = uniqueEmail('admin');
    const deps = {
      db: users.get().db,
      outbox: users.get().outbox,
      logger: createLogger({ service: 't', write: () => {} }),
    };
    expect(await ensureAdmin(deps, { email, password })).toBe('created');
    expect(await ensureAdmin(deps, { email, password: 'another password entirely' })).toBe(
      'present',
    );
    const rows = await users
      .get()
      .db.selectFrom('users')
      .select(['role'])
      .where('email', '=', email)
      .execute();
    expect(rows).toEqual([{ role: 'admin' }]);
  });

  it('promotes an existing account only when ADMIN_PASSWORD is its password', async () => {
    const deps = {
      db: users.get().db,
      outbox: users.get().outbox,
      logger: createLogger({ service: 't', write: () => {} }),
    };
    const squatted = uniqueEmail('squatter');
    await register({ email: squatted, password: 'the squatter password', name: 'Squatter' });
    expect(await ensureAdmin(deps, { email: squatted, password })).toBe('refused');
    const role = async (email: string) =>
      (
        await users
          .get()
          .db.selectFrom('users')
          .select('role')
          .where('email', '=', email)
          .executeTakeFirst()
      )?.role;
    expect(await role(squatted)).toBe('customer');

    const own = uniqueEmail('promoted');
    await register({ email: own, password, name: 'Later Admin' });
    expect(await ensureAdmin(deps, { email: own, password })).toBe('promoted');
    expect(await role(own)).toBe('admin');
  });
}

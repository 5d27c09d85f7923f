import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import type { PublicUser } from '../accounts/schemas.ts';
import { accountHelpers, password, type TestPair, useUsersApp } from '../test-support.ts';

describe.each(databaseBackends)('admin users on %s', (backend) => {
  const users = useUsersApp(backend);
  const ctx = { users, ...accountHelpers(users) };

  accessCases(ctx);
  listingCases(ctx);
  statusCases(ctx);
  roleCases(ctx);
  lastAdminCases(ctx);
});

type UsersApp = ReturnType<typeof useUsersApp>;
type Ctx = { users: UsersApp } & ReturnType<typeof accountHelpers>;
type Page = { items: PublicUser[]; nextCursor: string | null };

async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as Problem;
}

/** A fresh admin, logged in. */
async function newAdmin({ signUp, makeAdmin }: Ctx) {
  const user = await signUp('admin');
  return { ...user, accessToken: await makeAdmin(user.id) };
}

function accessCases(ctx: Ctx) {
  const { users, signUp } = ctx;
  it('admits admins only', async () => {
    const customer = await signUp('customer');
    await expectProblem(await users.call('GET', '/api/v1/admin/users'), 401);
    await expectProblem(
      await users.call('GET', '/api/v1/admin/users', { token: customer.accessToken }),
      403,
    );
    await expectProblem(
      await users.call('PATCH', `/api/v1/admin/users/${customer.id}`, {
        token: customer.accessToken,
        body: { role: 'admin' },
      }),
      403,
    );
    const admin = await newAdmin(ctx);
    expect(
      (await users.call('GET', '/api/v1/admin/users', { token: admin.accessToken })).status,
    ).toBe(200);
  });

  it('answers one user, 404 for an unknown id and 400 for a malformed one', async () => {
    const admin = await newAdmin(ctx);
    const user = await signUp('lookup');
    const get = (id: string) =>
      users.call('GET', `/api/v1/admin/users/${id}`, { token: admin.accessToken });
    const res = await get(user.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: user.id,
      email: user.email,
      role: 'customer',
      status: 'active',
      emailVerified: false,
    });
    await expectProblem(await get('00000000-0000-4000-8000-000000000000'), 404);
    await expectProblem(await get('not-a-uuid'), 400);
  });
}

function listingCases(ctx: Ctx) {
  const { users, signUp } = ctx;
  const list = (token: string, query: string) =>
    users.call('GET', `/api/v1/admin/users?${query}`, { token });

  it('pages through the matches newest first, each exactly once', async () => {
    const admin = await newAdmin(ctx);
    const tag = `pager${Date.now()}`;
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await signUp(`${tag}-${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await list(admin.accessToken, query)).json()) as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(created.reverse());
  });

  it('finds by a case-insensitive part of the email or the name, literally', async () => {
    const admin = await newAdmin(ctx);
    const user = await signUp('Searchable');
    await users.call('PATCH', '/api/v1/users/me', {
      token: user.accessToken,
      body: { name: 'Zelda 100% Unique' },
    });
    const ids = async (q: string) =>
      (
        (await (await list(admin.accessToken, `q=${encodeURIComponent(q)}`)).json()) as Page
      ).items.map((u) => u.id);
    expect(await ids(user.email.toUpperCase())).toEqual([user.id]);
    expect(await ids('zelda 100% u')).toEqual([user.id]);
    expect(await ids('zelda 1000')).toEqual([]);
    expect(await ids('zelda _00')).toEqual([]);
  });

  it('filters by role and status', async () => {
    const admin = await newAdmin(ctx);
    const page = async (query: string) =>
      (await (await list(admin.accessToken, query)).json()) as Page;
    const admins = await page('role=admin&limit=100');
    expect(admins.items.map((u) => u.id)).toContain(admin.id);
    expect(admins.items.every((u) => u.role === 'admin')).toBe(true);
    const disabled = await page('status=disabled&limit=100');
    expect(disabled.items.every((u) => u.status === 'disabled')).toBe(true);
  });

  it.each(['limit=0', 'limit=101', 'role=root', 'status=gone', 'cursor=%25%25', 'cursor=abc'])(
    'refuses %s with 400',
    async (query) => {
      const admin = await newAdmin(ctx);
      await expectProblem(await list(admin.accessToken, query), 400);
    },
  );
}

function statusCases(ctx: Ctx) {
  const { users, signUp, login, refresh, eventsAbout } = ctx;
  const patch = (token: string, id: string, body: unknown) =>
    users.call('PATCH', `/api/v1/admin/users/${id}`, { token, body });

  it('disables an account: its sessions end, its logins get 403 once the password is right', async () => {
    const admin = await newAdmin(ctx);
    const user = await signUp('disabled');
    const res = await patch(admin.accessToken, user.id, { status: 'disabled' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, status: 'disabled' });

    expect(await eventsAbout('user.signed_out', user.id)).toHaveLength(1);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    const refused = await expectProblem(await login(user.email), 403);
    expect(refused.detail).toBe('this account is disabled');
    await expectProblem(await login(user.email, 'not the password at all'), 401);

    expect((await patch(admin.accessToken, user.id, { status: 'active' })).status).toBe(200);
    expect((await login(user.email)).status).toBe(200);
  });

  it('refuses a refresh of an account disabled behind its back with 403, spending nothing', async () => {
    const user = await signUp('disabled');
    const { db } = users.get();
    const setStatus = (status: 'active' | 'disabled') =>
      db.updateTable('users').set({ status }).where('id', '=', user.id).execute();
    await setStatus('disabled');
    await expectProblem(await refresh(user.refreshToken), 403);
    await setStatus('active');
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });

  it('refuses an empty change and an unknown status with 400, an unknown user with 404', async () => {
    const admin = await newAdmin(ctx);
    const user = await signUp('patch');
    await expectProblem(await patch(admin.accessToken, user.id, {}), 400);
    await expectProblem(await patch(admin.accessToken, user.id, { status: 'banned' }), 400);
    await expectProblem(
      await patch(admin.accessToken, '00000000-0000-4000-8000-000000000000', { role: 'admin' }),
      404,
    );
  });
}

function roleCases(ctx: Ctx) {
  const { users, signUp, login, refresh, eventsAbout } = ctx;
  it('promotes a customer, whose next login carries the admin role', async () => {
    const admin = await newAdmin(ctx);
    const user = await signUp('promoted');
    const res = await users.call('PATCH', `/api/v1/admin/users/${user.id}`, {
      token: admin.accessToken,
      body: { role: 'admin' },
    });
    expect(await res.json()).toMatchObject({ role: 'admin' });
    const pair = (await (await login(user.email, password)).json()) as TestPair;
    expect(
      (await users.call('GET', '/api/v1/admin/users', { token: pair.accessToken })).status,
    ).toBe(200);
  });

  it('ends the sessions of a demoted admin, whose tokens still say admin', async () => {
    const admin = await newAdmin(ctx);
    const other = await newAdmin(ctx);
    const { refreshToken } = (await (await login(other.email)).json()) as TestPair;
    const res = await users.call('PATCH', `/api/v1/admin/users/${other.id}`, {
      token: admin.accessToken,
      body: { role: 'customer' },
    });
    expect(res.status).toBe(200);
    expect((await refresh(refreshToken)).status).toBe(401);
    expect((await eventsAbout('user.signed_out', other.id)).length).toBeGreaterThanOrEqual(2);
  });
}

function lastAdminCases(ctx: Ctx) {
  const { users } = ctx;
  /** Leaves the given admins as the only active ones. */
  async function onlyAdmins(ids: string[]) {
    await users
      .get()
      .db.updateTable('users')
      .set({ role: 'customer' })
      .where('role', '=', 'admin')
      .where('id', 'not in', ids)
      .execute();
  }
  const patch = (token: string, id: string, body: unknown) =>
    users.call('PATCH', `/api/v1/admin/users/${id}`, { token, body });

  it('refuses to demote or disable the last active admin with 409', async () => {
    const admin = await newAdmin(ctx);
    await onlyAdmins([admin.id]);
    for (const body of [{ role: 'customer' }, { status: 'disabled' }]) {
      const problem = await expectProblem(await patch(admin.accessToken, admin.id, body), 409);
      expect(problem.detail).toBe('the last active admin cannot be demoted or disabled');
    }
    expect((await patch(admin.accessToken, admin.id, { role: 'admin' })).status).toBe(200);
  });

  it('lets only one of two concurrent demotions of the last two admins through', async () => {
    const first = await newAdmin(ctx);
    const second = await newAdmin(ctx);
    await onlyAdmins([first.id, second.id]);
    const statuses = await Promise.all([
      patch(first.accessToken, second.id, { role: 'customer' }).then((r) => r.status),
      patch(second.accessToken, first.id, { status: 'disabled' }).then((r) => r.status),
    ]);
    expect(statuses.sort()).toEqual([200, 409]);
    const active = await users
      .get()
      .db.selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('status', '=', 'active')
      .execute();
    expect(active).toHaveLength(1);
  });
}

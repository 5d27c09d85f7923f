import { createLogger, type Problem, type ShopEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { createMemoryUserRepository } from './repository.ts';

const appApiToken = 'users-app-token-0123456789';

function setup(options: { publishFails?: boolean } = {}) {
  const published: ShopEvent[] = [];
  const users = createMemoryUserRepository();
  const app = createApp({
    config: { APP_API_TOKEN: appApiToken },
    logger: createLogger({ service: 'users', write: () => {} }),
    users,
    sidecar: {
      ready: async () => {},
      publish: async (event) => {
        if (options.publishFails) throw new Error('sidecar down');
        published.push(event as ShopEvent);
      },
    },
  });
  const register = (body: unknown, caller = 'gateway') =>
    app.request('/api/v1/auth/register', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'dapr-api-token': appApiToken,
        'dapr-caller-app-id': caller,
      },
      body: JSON.stringify(body),
    });
  return { register, published, users };
}

const valid = { email: '  Ada@Example.COM ', password: 'correct horse battery', name: 'Ada' };

describe('POST /api/v1/auth/register', () => {
  it('creates a customer with a normalised email and announces it', async () => {
    const { register, published } = setup();
    const res = await register({ ...valid, role: 'admin' });
    expect(res.status).toBe(201);
    const user = (await res.json()) as { id: string };
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'customer' });
    expect(user).not.toHaveProperty('passwordHash');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'user.registered',
      data: { userId: user.id, email: 'ada@example.com' },
    });
  });

  it('answers 409 for an email taken in another case', async () => {
    const { register } = setup();
    expect((await register(valid)).status).toBe(201);
    const res = await register({ ...valid, email: 'ADA@example.com' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it.each([
    [{ ...valid, password: 'short' }, 'password'],
    [{ ...valid, password: 'x'.repeat(129) }, 'password'],
    [{ ...valid, email: 'not-an-email' }, 'email'],
    [{ ...valid, name: '   ' }, 'name'],
    [{ ...valid, name: 'n'.repeat(101) }, 'name'],
  ])('rejects %o with 400 naming %s', async (body, field) => {
    const { register, published } = setup();
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toContain(field);
    expect(published).toHaveLength(0);
  });

  it('only takes calls the gateway made through Dapr', async () => {
    const { register } = setup();
    expect((await register(valid, 'orders')).status).toBe(403);
  });

  it('keeps nothing when the event cannot be published', async () => {
    const { register, users } = setup({ publishFails: true });
    expect((await register(valid)).status).toBe(503);
    expect(await users.findByEmail('ada@example.com')).toBeUndefined();
  });
});

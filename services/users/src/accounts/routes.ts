import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '@shop/platform';
import { type AccountsDeps, getUser, registerUser } from './service.ts';

const registration = z.object({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email()),
  password: z.string().min(12).max(128),
  name: z.string().trim().min(1).max(100),
});

const publicUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['customer', 'admin']),
  createdAt: z.string(),
});

const registerRoute = createRoute({
  method: 'post',
  path: '/register',
  request: { body: { required: true, content: { 'application/json': { schema: registration } } } },
  responses: {
    201: {
      description: 'the new account',
      content: { 'application/json': { schema: publicUser } },
    },
  },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  responses: {
    200: {
      description: 'the caller’s account',
      content: { 'application/json': { schema: publicUser } },
    },
  },
});

/** Mounted at /api/v1/auth. */
export function registrationRoutes(deps: AccountsDeps) {
  return createRouter().openapi(registerRoute, async (c) =>
    c.json(await registerUser(deps, c.req.valid('json')), 201),
  );
}

/** Mounted at /api/v1/users behind authenticate(). */
export function userRoutes(deps: Pick<AccountsDeps, 'db'>) {
  return createRouter().openapi(meRoute, async (c) =>
    c.json(await getUser(deps, c.get('user').id), 200),
  );
}

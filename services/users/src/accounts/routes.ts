import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, requireCaller } from '@shop/platform';
import { type AccountsDeps, registerUser } from './service.ts';

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

/** Mounted at /api/v1/auth; only the gateway may call it. */
export function authRoutes(deps: AccountsDeps) {
  const router = createRouter();
  router.use('*', requireCaller('gateway'));
  return router.openapi(registerRoute, async (c) =>
    c.json(await registerUser(deps, c.req.valid('json')), 201),
  );
}

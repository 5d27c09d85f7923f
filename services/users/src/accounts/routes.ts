import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import { publicUser, registration } from './schemas.ts';
import { type AccountsDeps, getUser, registerUser } from './service.ts';

const registerRoute = createRoute({
  method: 'post',
  path: '/register',
  request: { body: { required: true, content: { 'application/json': { schema: registration } } } },
  responses: {
    201: {
      description: 'the new account',
      content: { 'application/json': { schema: publicUser } },
    },
    ...problemResponses(400, 403, 409, 413),
  },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  security: bearerSecurity,
  responses: {
    200: {
      description: 'the caller’s account',
      content: { 'application/json': { schema: publicUser } },
    },
    // 404: the token is valid but its account has been deleted since.
    ...problemResponses(401, 403, 404),
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

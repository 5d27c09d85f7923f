import { createRoute, type z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, pageOf, problemResponses } from '@shop/platform';
import { publicUser } from '../accounts/schemas.ts';
import type { AccountsDeps } from '../accounts/service.ts';
import { adminUserChanges, userIdParams, userListQuery } from './schemas.ts';
import { changeUser, getUserForAdmin, pageOfUsers } from './service.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const listRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: { query: userListQuery },
  responses: {
    200: { description: 'users, newest first', content: json(pageOf(publicUser)) },
    ...problemResponses(400, 401, 403),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  security: bearerSecurity,
  request: { params: userIdParams },
  responses: {
    200: { description: 'the user', content: json(publicUser) },
    ...problemResponses(400, 401, 403, 404),
  },
});

const patchRoute = createRoute({
  method: 'patch',
  path: '/{id}',
  security: bearerSecurity,
  request: { params: userIdParams, body: { required: true, content: json(adminUserChanges) } },
  responses: {
    200: {
      description: 'the user as changed; disabling or demoting ends every session of theirs',
      content: json(publicUser),
    },
    // 409: this would leave the shop without an active admin.
    ...problemResponses(400, 401, 403, 404, 409, 413),
  },
});

/** Mounted at /api/v1/admin/users behind authenticate() and requireRole('admin'). */
export function adminUserRoutes(deps: AccountsDeps) {
  return createRouter()
    .openapi(listRoute, async (c) => c.json(await pageOfUsers(deps, c.req.valid('query')), 200))
    .openapi(getRoute, async (c) =>
      c.json(await getUserForAdmin(deps, c.req.valid('param').id), 200),
    )
    .openapi(patchRoute, async (c) => {
      const { id } = c.req.valid('param');
      const changed = await changeUser(deps, id, c.req.valid('json'), c.get('user').id);
      return c.json(changed, 200);
    });
}

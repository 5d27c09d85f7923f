import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '@shop/platform';
import { login, logout, refresh, type SessionsDeps } from './service.ts';

const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
// Long enough for any token we issue, short enough that nobody makes us hash megabytes.
const refreshToken = z.object({ refreshToken: z.string().min(1).max(200) });

const tokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const loginRoute = createRoute({
  method: 'post',
  path: '/login',
  request: { body: json(z.object({ email, password: z.string().min(1).max(128) })) },
  responses: {
    200: { description: 'a new login', content: { 'application/json': { schema: tokenPair } } },
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/refresh',
  request: { body: json(refreshToken) },
  responses: {
    200: {
      description: 'a new pair; the old refresh token is spent',
      content: { 'application/json': { schema: tokenPair } },
    },
  },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/logout',
  request: { body: json(refreshToken) },
  responses: { 204: { description: 'the login is ended' } },
});

/** Login, refresh and logout; mounted at /api/v1/auth behind the gateway-only check. */
export function sessionRoutes(deps: SessionsDeps) {
  return createRouter()
    .openapi(loginRoute, async (c) => {
      // The gateway sets X-Forwarded-For from the connection; only the gateway may call here.
      const clientAddress = c.req.header('x-forwarded-for')?.split(',')[0]?.trim() || undefined;
      return c.json(await login(deps, c.req.valid('json'), clientAddress), 200);
    })
    .openapi(refreshRoute, async (c) =>
      c.json(await refresh(deps, c.req.valid('json').refreshToken), 200),
    )
    .openapi(logoutRoute, async (c) => {
      await logout(deps, c.req.valid('json').refreshToken);
      return c.body(null, 204);
    });
}

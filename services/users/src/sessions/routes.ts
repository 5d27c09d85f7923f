import { createRoute, type z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import { credentials, loginTokens, logoutBody, refreshTokenBody, tokenPair } from './schemas.ts';
import { forgetDevices, login, logout, refresh, type SessionsDeps } from './service.ts';

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const loginRoute = createRoute({
  method: 'post',
  path: '/login',
  request: { body: json(credentials) },
  responses: {
    200: {
      description: 'a new login, with the device token to keep for later logins',
      content: { 'application/json': { schema: loginTokens } },
    },
    // 401: the same answer for an unknown email and a wrong password; 429: throttled.
    ...problemResponses(400, 401, 403, 413, 429),
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/refresh',
  request: { body: json(refreshTokenBody) },
  responses: {
    200: {
      description: 'a new pair; the old refresh token is spent',
      content: { 'application/json': { schema: tokenPair } },
    },
    // 401: unknown, expired, revoked or already spent (which revokes its whole family).
    ...problemResponses(400, 401, 403, 413),
  },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/logout',
  request: { body: json(logoutBody) },
  responses: {
    204: { description: 'the login is ended (and the device token, if one was sent, revoked)' },
    ...problemResponses(400, 403, 413),
  },
});

const forgetDevicesRoute = createRoute({
  method: 'delete',
  path: '/me/devices',
  security: bearerSecurity,
  responses: {
    204: {
      description:
        'every device token of the caller is revoked: each device gets a new one at its next login',
    },
    ...problemResponses(401, 403),
  },
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
      await logout(deps, c.req.valid('json'));
      return c.body(null, 204);
    });
}

/** Revoking one's device tokens; mounted at /api/v1/users behind authenticate(). */
export function deviceRoutes(deps: Pick<SessionsDeps, 'db' | 'logger' | 'clock'>) {
  return createRouter().openapi(forgetDevicesRoute, async (c) => {
    await forgetDevices(deps, c.get('user').id);
    return c.body(null, 204);
  });
}

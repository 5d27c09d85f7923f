import { createRoute, type z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import { tokenPair } from '../sessions/schemas.ts';
import { resendEmailVerification, verifyEmail } from './email-verification.ts';
import { confirmPasswordReset, requestPasswordReset } from './password-reset.ts';
import {
  accountDeletion,
  emailVerification,
  passwordChange,
  passwordResetConfirmation,
  passwordResetRequest,
  profileChanges,
  publicUser,
  registration,
} from './schemas.ts';
import {
  type AccountsDeps,
  type CredentialsDeps,
  changePassword,
  deleteAccount,
  getUser,
  registerUser,
  updateProfile,
} from './service.ts';

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
const userAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: publicUser } },
});

const registerRoute = createRoute({
  method: 'post',
  path: '/register',
  request: { body: json(registration) },
  responses: {
    201: userAnswer('the new account; a verification link is mailed to its address'),
    ...problemResponses(400, 403, 409, 413),
  },
});

const passwordResetRoute = createRoute({
  method: 'post',
  path: '/password-reset',
  request: { body: json(passwordResetRequest) },
  responses: {
    202: {
      description:
        'always, whether or not the address has an account: if it has an active one, a link valid for 30 minutes is mailed to it',
    },
    ...problemResponses(400, 403, 413),
  },
});

const passwordResetConfirmRoute = createRoute({
  method: 'post',
  path: '/password-reset/confirm',
  request: { body: json(passwordResetConfirmation) },
  responses: {
    204: {
      description: 'the password is set, the link spent and every session of the account ended',
    },
    // 400 also for a token that is unknown, used or expired.
    ...problemResponses(400, 403, 413),
  },
});

const verifyEmailRoute = createRoute({
  method: 'post',
  path: '/verify-email',
  request: { body: json(emailVerification) },
  responses: {
    204: { description: 'the address is verified; access tokens say so from the next refresh on' },
    // 400 also for a token that is unknown, used or expired.
    ...problemResponses(400, 403, 413),
  },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  security: bearerSecurity,
  responses: {
    200: userAnswer('the caller’s account'),
    // 404: the token is valid but its account has been deleted since.
    ...problemResponses(401, 403, 404),
  },
});

const updateMeRoute = createRoute({
  method: 'patch',
  path: '/me',
  security: bearerSecurity,
  request: { body: json(profileChanges) },
  responses: {
    200: userAnswer('the caller’s account as changed'),
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

const changePasswordRoute = createRoute({
  method: 'post',
  path: '/me/password',
  security: bearerSecurity,
  request: { body: json(passwordChange) },
  responses: {
    200: {
      description:
        'a fresh login for the caller; every earlier one is ended, its refresh tokens revoked and its access tokens refused by the gateway within seconds',
      content: { 'application/json': { schema: tokenPair } },
    },
    // 403 also when the current password is wrong.
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

const deleteMeRoute = createRoute({
  method: 'delete',
  path: '/me',
  security: bearerSecurity,
  request: { body: json(accountDeletion) },
  responses: {
    204: { description: 'the account, its sessions, devices and tokens are deleted' },
    // 403 also when the password is wrong.
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

const resendVerificationRoute = createRoute({
  method: 'post',
  path: '/me/email-verification',
  security: bearerSecurity,
  responses: {
    202: {
      description: 'a new verification link (valid 24 hours) is mailed; earlier ones stop working',
    },
    // 409: the address is already verified.
    ...problemResponses(401, 403, 404, 409),
  },
});

/** Sign-up, password reset and email verification; mounted at /api/v1/auth. */
export function registrationRoutes(deps: AccountsDeps) {
  return createRouter()
    .openapi(registerRoute, async (c) => c.json(await registerUser(deps, c.req.valid('json')), 201))
    .openapi(passwordResetRoute, async (c) => {
      await requestPasswordReset(deps, c.req.valid('json').email);
      return c.body(null, 202);
    })
    .openapi(passwordResetConfirmRoute, async (c) => {
      await confirmPasswordReset(deps, c.req.valid('json'));
      return c.body(null, 204);
    })
    .openapi(verifyEmailRoute, async (c) => {
      await verifyEmail(deps, c.req.valid('json').token);
      return c.body(null, 204);
    });
}

/** The caller's own account; mounted at /api/v1/users behind authenticate(). */
export function userRoutes(deps: CredentialsDeps) {
  return createRouter()
    .openapi(meRoute, async (c) => c.json(await getUser(deps, c.get('user').id), 200))
    .openapi(updateMeRoute, async (c) =>
      c.json(await updateProfile(deps, c.get('user').id, c.req.valid('json')), 200),
    )
    .openapi(changePasswordRoute, async (c) =>
      c.json(await changePassword(deps, c.get('user').id, c.req.valid('json')), 200),
    )
    .openapi(deleteMeRoute, async (c) => {
      await deleteAccount(deps, c.get('user').id, c.req.valid('json').password);
      return c.body(null, 204);
    })
    .openapi(resendVerificationRoute, async (c) => {
      await resendEmailVerification(deps, c.get('user').id);
      return c.body(null, 202);
    });
}

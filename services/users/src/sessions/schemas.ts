import { z } from '@hono/zod-openapi';
import { emailAddress } from '../accounts/schemas.ts';

// Long enough for any token we issue, short enough that nobody makes us hash megabytes.
const opaqueToken = z.string().min(1).max(200);

const deviceToken = opaqueToken.openapi({
  description:
    'The device token from an earlier login on this device. A live one of this account ' +
    'exempts the login from the account-wide failed-login cap; any other value is ignored.',
});

export const credentials = z.object({
  email: emailAddress,
  password: z.string().min(1).max(128),
  deviceToken: deviceToken.optional(),
});

export const refreshTokenBody = z.object({ refreshToken: opaqueToken });

export const logoutBody = z.object({
  refreshToken: opaqueToken,
  deviceToken: opaqueToken
    .openapi({
      description: 'Also revoke this device token of the same user ("forget this device").',
    })
    .optional(),
});

const tokenPairShape = {
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
};

export const tokenPair = z.object(tokenPairShape).openapi('TokenPair');

export const loginTokens = z
  .object({
    ...tokenPairShape,
    deviceToken: z.string().openapi({
      description:
        'Keep it on this device and send it with later logins: they are then not stopped ' +
        'when strangers exhaust the account-wide cap. Long-lived; revoked by logout with it, ' +
        'by DELETE /api/v1/users/me/devices, or after repeated wrong passwords sent with it.',
    }),
  })
  .openapi('LoginTokens');

export type TokenPair = z.infer<typeof tokenPair>;
export type LoginTokens = z.infer<typeof loginTokens>;

import { z } from '@hono/zod-openapi';
import { emailAddress } from '../accounts/schemas.ts';

export const credentials = z.object({
  email: emailAddress,
  password: z.string().min(1).max(128),
});

// Long enough for any token we issue, short enough that nobody makes us hash megabytes.
export const refreshTokenBody = z.object({ refreshToken: z.string().min(1).max(200) });

export const tokenPair = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int(),
  })
  .openapi('TokenPair');

export type TokenPair = z.infer<typeof tokenPair>;

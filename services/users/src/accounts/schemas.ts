import { z } from '@hono/zod-openapi';
import { singleLineText } from '@shop/platform';
import { roles } from '@shop/platform/auth';

/** Trimmed and lower-cased, as it is stored, so one address is one account. */
export const emailAddress = z.string().trim().toLowerCase().max(254).pipe(z.email());

export const registration = z.object({
  email: emailAddress,
  password: z.string().min(12).max(128),
  name: singleLineText().trim().min(1).max(100),
});

export const publicUser = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    role: z.enum(roles),
    createdAt: z.iso.datetime(),
  })
  .openapi('PublicUser');

/** An account as its owner and the API see it: never the password hash. */
export type PublicUser = z.infer<typeof publicUser>;

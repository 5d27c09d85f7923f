import { z } from '@hono/zod-openapi';
import { singleLineText } from '@shop/platform';
import { roles } from '@shop/platform/auth';

/** Trimmed and lower-cased, as it is stored, so one address is one account. */
export const emailAddress = z.string().trim().toLowerCase().max(254).pipe(z.email());

const newPassword = z.string().min(12).max(128);
const displayName = singleLineText().trim().min(1).max(100);
// What the owner types to prove it is them; any length we would ever have accepted.
const presentedPassword = z.string().min(1).max(128);
// Long enough for any token we issue, short enough that nobody makes us hash megabytes.
const mailedToken = z.string().min(1).max(200);

export const registration = z.object({
  email: emailAddress,
  password: newPassword,
  name: displayName,
});

export const profileChanges = z.object({ name: displayName });

export const passwordChange = z.object({
  currentPassword: presentedPassword,
  newPassword,
});

export const accountDeletion = z.object({ password: presentedPassword });

export const passwordResetRequest = z.object({ email: emailAddress });

export const passwordResetConfirmation = z.object({ token: mailedToken, newPassword });

export const emailVerification = z.object({ token: mailedToken });

export const accountStatuses = ['active', 'disabled'] as const;

export const publicUser = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    role: z.enum(roles),
    status: z.enum(accountStatuses),
    emailVerified: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .openapi('PublicUser');

/** An account as its owner and the API see it: never the password hash. */
export type PublicUser = z.infer<typeof publicUser>;

import { z } from '@hono/zod-openapi';
import { pageQuery } from '@shop/platform';
import { roles } from '@shop/platform/auth';
import { accountStatuses } from '../accounts/schemas.ts';

export const userListQuery = pageQuery.extend({
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'a case-insensitive part of the email or the name' }),
  role: z.enum(roles).optional(),
  status: z.enum(accountStatuses).optional(),
});

export type UserListQuery = z.infer<typeof userListQuery>;

export const userIdParams = z.object({ id: z.uuid() });

export const adminUserChanges = z
  .object({ role: z.enum(roles).optional(), status: z.enum(accountStatuses).optional() })
  .refine((changes) => changes.role !== undefined || changes.status !== undefined, {
    message: 'give a role, a status or both',
  });

export type AdminUserChanges = z.infer<typeof adminUserChanges>;

/** Where a page of users ends: the last row's sort key. */
export const userPosition = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

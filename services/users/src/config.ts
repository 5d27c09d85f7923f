import { serviceEnv } from '@shop/platform';
import { z } from 'zod';

export const usersEnv = serviceEnv.extend({
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12).max(128).optional(),
});

export type UsersConfig = z.infer<typeof usersEnv>;

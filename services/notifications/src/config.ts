import { serviceEnv } from '@shop/platform';
import type { z } from 'zod';

export const notificationsEnv = serviceEnv;

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

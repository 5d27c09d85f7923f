import { accessTokenEnv, serviceEnv } from '@shop/platform';
import type { z } from 'zod';

export const notificationsEnv = serviceEnv.extend(accessTokenEnv.shape);

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

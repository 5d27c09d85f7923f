import { accessTokenEnv, serviceEnv } from '@shop/platform';
import type { z } from 'zod';

/** The Dapr app id, and the name in this service's logs and metrics. */
export const serviceName = 'notifications';

export const notificationsEnv = serviceEnv.extend(accessTokenEnv.shape);

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

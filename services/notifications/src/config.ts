import { accessTokenEnv, serviceEnv } from '@shop/platform';
import { z } from 'zod';
import { accountLinksEnv } from './account-links/config.ts';
import { emailEnv } from './email/config.ts';
import { streamEnv } from './stream/config.ts';

/** The Dapr app id, and the name in this service's logs and metrics. */
export const serviceName = 'notifications';

/** Notifications keep documents, not rows: a MongoDB (FerretDB under `npm start` and in tests). */
export const documentDatabaseEnv = z.object({
  /** Names the database in its path, e.g. `mongodb://127.0.0.1:27017/notifications`. */
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// connection string'),
});

export const notificationsEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(documentDatabaseEnv.shape)
  .extend(streamEnv.shape)
  .extend(emailEnv.shape)
  .extend(accountLinksEnv.shape);

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

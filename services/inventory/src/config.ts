import { accessTokenEnv, databaseEnv, serviceEnv } from '@shop/platform';
import type { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'inventory';

export const inventoryEnv = serviceEnv.extend(accessTokenEnv.shape).extend(databaseEnv.shape);

export type InventoryConfig = z.infer<typeof inventoryEnv>;

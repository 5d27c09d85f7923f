import type { Kysely } from 'kysely';
import type { Sidecar } from '../dapr/sidecar.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import { type DatabaseOptions, openServiceDatabase } from './database.ts';
import { type OutboxRelay, startOutboxRelay } from './outbox-relay.ts';
import type { PlatformTables } from './platform-tables.ts';

/**
 * What every service with a database opens in its main.ts: the database (migrated), the
 * outbox relay publishing through the sidecar, both closed by the lifecycle (the relay
 * first), and the readiness checks of both the database and the sidecar.
 *
 * @example
 * const service = serviceDefaults(serviceName, ordersEnv);
 * const { db, outbox, readiness } = await openServiceStorage<OrdersTables>(service, { migrations });
 */
export async function openServiceStorage<DB extends PlatformTables>(
  service: {
    config: Parameters<typeof openServiceDatabase>[0]['config'];
    logger: Logger;
    sidecar: Pick<Sidecar, 'publish' | 'ready'>;
    lifecycle: Pick<Lifecycle, 'closes'>;
  },
  options: { migrations: URL; pgliteExtensions?: DatabaseOptions['pgliteExtensions'] | undefined },
): Promise<{
  db: Kysely<DB>;
  outbox: OutboxRelay;
  readiness: { sidecar: () => Promise<unknown>; database: () => Promise<unknown> };
}> {
  const { config, logger, sidecar, lifecycle } = service;
  const database = await openServiceDatabase<DB>({ config, logger, ...options });
  const { db } = lifecycle.closes('database', database);
  const outbox = lifecycle.closes(
    'outbox relay',
    startOutboxRelay({ db, publish: sidecar.publish, logger }),
  );
  return { db, outbox, readiness: { sidecar: sidecar.ready, database: database.ping } };
}

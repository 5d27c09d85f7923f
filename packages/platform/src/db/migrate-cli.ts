// Applies a service's migrations to its PostgreSQL and exits: the Helm pre-install/upgrade
// hook and each service's `npm run migrate` run this, before any replica starts.
//   DATABASE_URL=postgres://... node packages/platform/src/db/migrate-cli.ts services/orders/migrations
import { z } from 'zod';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createDatabase } from './database.ts';
import { migrateToLatest } from './migrations.ts';

const config = loadConfig(
  z.object({
    DATABASE_URL: z.string().min(1, 'DATABASE_URL must name the database to migrate'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  }),
);
const logger = createLogger({ service: 'migrate', level: config.LOG_LEVEL });
const folder = process.argv[2];
if (!folder) {
  console.error('usage: node migrate-cli.ts <migrationsFolder>');
  process.exit(2);
}

const database = createDatabase({ url: config.DATABASE_URL, logger });
try {
  await migrateToLatest(database.db, folder, logger);
  logger.info('database is at the latest migration', { folder });
} catch (error) {
  logger.error('migration failed', { error });
  process.exitCode = 1;
} finally {
  await database.close();
}

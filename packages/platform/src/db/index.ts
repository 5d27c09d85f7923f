export { createDatabase, type Database, type DatabaseOptions } from './database.ts';
export { migrateToLatest } from './migrations.ts';
export { createPlatformTables, dropPlatformTables, type PlatformTables } from './platform-tables.ts';

export { createDatabase, type Database, type DatabaseOptions } from './database.ts';
export { type EventReceipt, handleEventOnce } from './inbox.ts';
export { migrateToLatest } from './migrations.ts';
export {
  enqueueEvent,
  type OutboxRelay,
  type OutboxRelayOptions,
  startOutboxRelay,
} from './outbox.ts';
export {
  createPlatformTables,
  dropPlatformTables,
  type PlatformTables,
} from './platform-tables.ts';

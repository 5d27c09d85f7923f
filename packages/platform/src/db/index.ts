export {
  createDatabase,
  type Database,
  type DatabaseOptions,
} from './database.ts';
export { sqlDeadLetterStore } from './dead-letters.ts';
export { migrateToLatest } from './migrations.ts';
export { type NewestFirstCursor, newestFirst } from './newest-first.ts';
export { enqueueEvent } from './outbox.ts';
export { registerOutboxMetrics } from './outbox-metrics.ts';
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.ts';
export type { PlatformTables } from './platform-tables.ts';
export { type EventReceipt, handleEventOnce } from './processed-events.ts';
export { openServiceStorage } from './service-storage.ts';

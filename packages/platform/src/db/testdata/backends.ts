import { fileURLToPath } from 'node:url';
import { type DatabaseBackend, useTestDatabase } from '@shop/devkit/testing';
import { buildEvent, type ShopEvent } from '../../events/cloud-event.ts';
import type { Database } from '../database.ts';
import type { PlatformTables } from '../platform-tables.ts';

export type TestTables = PlatformTables & { widgets: { id: string; name: string } };

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
export const brokenMigrationsFolder = fileURLToPath(
  new URL('./broken-migrations', import.meta.url),
);

/** A database with the platform's tables and a widgets table, emptied before each test. */
export function useWidgetsDatabase(backend: DatabaseBackend): () => Database<TestTables> {
  return useTestDatabase<TestTables>(backend, {
    migrations: migrationsFolder,
    emptyBeforeEach: true,
  });
}

let counter = 0;

/** A valid event with a recognisable id. */
export function testEvent(label = `e${++counter}`): ShopEvent {
  return buildEvent(
    'user.registered',
    {
      userId: label,
      email: `${label}@example.com`,
      name: label,
      registeredAt: new Date().toISOString(),
    },
    { source: 'test', id: `${label}-${crypto.randomUUID()}` },
  );
}

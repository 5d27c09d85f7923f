import type { Kysely } from 'kysely';
import type { DeadLetter, DeadLetterStore } from '../events/consumer.ts';
import { type PlatformTables, platformView } from './platform-tables.ts';

/**
 * Dead letters in the service's own database, so they survive a restart and every
 * replica sees the same list. An event dead-lettered again replaces its earlier copy.
 *
 * @example
 * createEventConsumer({ ..., deadLetters: sqlDeadLetterStore(database.db) });
 */
export function sqlDeadLetterStore<DB extends PlatformTables>(db: Kysely<DB>): DeadLetterStore {
  const view = platformView(db);
  const toLetter = (row: { id: string; type: string; received_at: Date; event: unknown }) =>
    ({
      id: row.id,
      type: row.type,
      receivedAt: row.received_at.toISOString(),
      event: row.event,
    }) satisfies DeadLetter;
  return {
    async add(letter) {
      const row = {
        id: letter.id,
        type: letter.type,
        received_at: new Date(letter.receivedAt),
        event: JSON.stringify(letter.event),
      };
      await view
        .insertInto('dead_letters')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            type: row.type,
            received_at: row.received_at,
            event: row.event,
          }),
        )
        .execute();
    },
    async list() {
      const rows = await view
        .selectFrom('dead_letters')
        .selectAll()
        .orderBy('received_at')
        .orderBy('id')
        .execute();
      return rows.map(toLetter);
    },
    async get(id) {
      const row = await view
        .selectFrom('dead_letters')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toLetter(row);
    },
    async remove(id) {
      await view.deleteFrom('dead_letters').where('id', '=', id).execute();
    },
  };
}

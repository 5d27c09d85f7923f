import type { DeadLetterStore } from '@shop/platform';
import type { NotificationsDb } from './database.ts';

/**
 * The event is kept as JSON text: an undeliverable body can be anything, including field
 * names (`$…`, dotted) a document may not have.
 */
export type DeadLetterDocument = { _id: string; type: string; receivedAt: Date; eventJson: string };

/**
 * Dead letters in the service's own database, so they survive a restart and every replica
 * sees the same list. An event dead-lettered again replaces its earlier copy.
 */
export function mongoDeadLetterStore(db: NotificationsDb): DeadLetterStore {
  const toLetter = (doc: DeadLetterDocument) => ({
    id: doc._id,
    type: doc.type,
    receivedAt: doc.receivedAt.toISOString(),
    event: JSON.parse(doc.eventJson) as unknown,
  });
  return {
    async add(letter) {
      await db.deadLetters.replaceOne(
        { _id: letter.id },
        {
          type: letter.type,
          receivedAt: new Date(letter.receivedAt),
          eventJson: JSON.stringify(letter.event ?? null),
        },
        { upsert: true },
      );
    },
    async list() {
      const docs = await db.deadLetters.find().sort({ receivedAt: 1, _id: 1 }).toArray();
      return docs.map(toLetter);
    },
    async get(id) {
      const doc = await db.deadLetters.findOne({ _id: id });
      return doc ? toLetter(doc) : undefined;
    },
    async remove(id) {
      await db.deadLetters.deleteOne({ _id: id });
    },
  };
}

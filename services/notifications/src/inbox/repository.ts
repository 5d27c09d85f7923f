import { randomUUID } from 'node:crypto';
import { MongoBulkWriteError } from 'mongodb';
import { duplicateKeyCode, isDuplicateKeyError, type NotificationsDb } from '../database.ts';
import type { Notification, NotificationDocument } from './notification.ts';

/** What an event handler decides a notification says; the store adds id, seq and times. */
export type NotificationDraft = Pick<
  Notification,
  'userId' | 'type' | 'title' | 'body' | 'data' | 'sourceKey'
>;

export function toNotification({ _id, ...rest }: NotificationDocument): Notification {
  return { id: _id, ...rest };
}

function toDocument({ id, ...rest }: Notification): NotificationDocument {
  return { _id: id, ...rest };
}

/**
 * Takes `count` seqs in one atomic increment of the one notifications counter and answers
 * the first. One counter for every user still gives each user strictly growing seqs, and
 * costs a batch of any size one round trip (FerretDB updates by reading the whole
 * collection, so a counter per user made a fan-out to n users cost n²). The first
 * increment creates the counter; two concurrent first ones can both try, and the loser
 * of that unique `_id` race retries against the winner's.
 */
export async function allocateSeqs(db: NotificationsDb, count: number): Promise<number> {
  for (;;) {
    try {
      const counter = await db.counters.findOneAndUpdate(
        { _id: notificationsCounter },
        { $inc: { seq: count } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!counter) throw new Error('the notifications counter was not returned');
      return counter.seq - count + 1;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}

const notificationsCounter = 'notifications';

/**
 * Inserts the notifications, with fresh seqs, in one unordered batch;
 * those whose sourceKey is already stored are refused by the unique index and answered as
 * duplicates. No look-up first: on FerretDB a query on any field but `_id` reads the whole
 * collection, and a redelivered event is rare, so a duplicate merely leaves a gap in its
 * user's seqs (allowed: seqs only have to grow).
 */
// A replica takes seqs and inserts one batch at a time, so its notifications become
// visible in the order of their seqs: two events for one user handled at once could
// otherwise show the higher seq first, and a stream that sent it (after its gap wait)
// would never send the lower one. Across replicas the stream's gap wait still applies.
const insertQueues = new WeakMap<NotificationsDb, Promise<unknown>>();

function oneBatchAtATime<T>(db: NotificationsDb, work: () => Promise<T>): Promise<T> {
  const previous = insertQueues.get(db) ?? Promise.resolve();
  const run = previous.then(work, work);
  insertQueues.set(
    db,
    run.catch(() => {}),
  );
  return run;
}

export function insertNotifications(
  db: NotificationsDb,
  drafts: readonly NotificationDraft[],
  now: Date,
): Promise<{ inserted: Notification[]; duplicateSourceKeys: Set<string> }> {
  return oneBatchAtATime(db, () => insertInSeqOrder(db, drafts, now));
}

async function insertInSeqOrder(
  db: NotificationsDb,
  drafts: readonly NotificationDraft[],
  now: Date,
): Promise<{ inserted: Notification[]; duplicateSourceKeys: Set<string> }> {
  if (drafts.length === 0) return { inserted: [], duplicateSourceKeys: new Set() };
  const firstSeq = await allocateSeqs(db, drafts.length);
  const notifications: Notification[] = drafts.map((draft, index) => ({
    id: randomUUID(),
    ...draft,
    createdAt: now,
    readAt: null,
    seq: firstSeq + index,
  }));
  const refused = new Set<number>();
  try {
    await db.notifications.insertMany(notifications.map(toDocument), { ordered: false });
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = [error.writeErrors].flat();
    const unexpected = writeErrors.find((writeError) => writeError.code !== duplicateKeyCode);
    if (unexpected || writeErrors.length === 0) throw error;
    for (const writeError of writeErrors) refused.add(writeError.index);
  }
  return {
    inserted: notifications.filter((_, index) => !refused.has(index)),
    duplicateSourceKeys: new Set(
      notifications.filter((_, index) => refused.has(index)).map((n) => n.sourceKey),
    ),
  };
}

/** The stored notifications among these sourceKeys, by sourceKey (one query for a page of users). */
export async function notificationsBySourceKey(
  db: NotificationsDb,
  sourceKeys: string[],
): Promise<Map<string, Notification>> {
  if (sourceKeys.length === 0) return new Map();
  const found = await db.notifications.find({ sourceKey: { $in: sourceKeys } }).toArray();
  return new Map(found.map((doc) => [doc.sourceKey, toNotification(doc)]));
}

/** Newest first; a page starts strictly below `beforeSeq` (the last item of the previous page). */
export async function listNotifications(
  db: NotificationsDb,
  query: { userId: string; unreadOnly: boolean; limit: number; beforeSeq?: number | undefined },
): Promise<Notification[]> {
  const docs = await db.notifications
    .find({
      userId: query.userId,
      ...(query.unreadOnly ? { readAt: null } : {}),
      ...(query.beforeSeq === undefined ? {} : { seq: { $lt: query.beforeSeq } }),
    })
    .sort({ seq: -1 })
    .limit(query.limit)
    .toArray();
  return docs.map(toNotification);
}

/** Marks one of the user's notifications read (keeping the first time); another user's is not_found. */
export async function markRead(
  db: NotificationsDb,
  userId: string,
  id: string,
  at: Date,
): Promise<'marked' | 'not_found'> {
  const updated = await db.notifications.updateOne(
    { _id: id, userId, readAt: null },
    { $set: { readAt: at } },
  );
  if (updated.matchedCount === 1) return 'marked';
  const alreadyRead = await db.notifications.countDocuments({ _id: id, userId }, { limit: 1 });
  return alreadyRead === 1 ? 'marked' : 'not_found';
}

export function countUnread(db: NotificationsDb, userId: string): Promise<number> {
  return db.notifications.countDocuments({ userId, readAt: null });
}

import { randomUUID } from 'node:crypto';
import { MongoBulkWriteError } from 'mongodb';
import { duplicateKeyCode, type NotificationsDb } from '../database.ts';
import type { Notification, NotificationDocument } from './notification.ts';
import { claimUserSeqs } from './user-seqs.ts';

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
 * Inserts the notifications of distinct users, each with the next seq of its user, in one
 * unordered batch; those whose sourceKey is already stored are refused by the unique index
 * and answered as duplicates. No look-up first: on FerretDB a query on any field but `_id`
 * reads the whole collection, and a redelivered event is rare, so a duplicate merely
 * leaves a gap in its user's seqs (a stream holds the user's next one for STREAM_GAP_WAIT_MS
 * once).
 */
// A replica takes a user's seqs and inserts them one batch at a time, so its
// notifications of one user become visible in the order of their seqs: two events for one
// user handled at once could otherwise show the higher seq first, and a stream would hold
// it until the lower one showed. Batches of other users do not wait for each other. Only
// two replicas inserting for one user at the same moment can still show them out of order.
const userQueues = new WeakMap<NotificationsDb, Map<string, Promise<unknown>>>();

function afterEarlierOfSameUsers<T>(
  db: NotificationsDb,
  userIds: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  let queues = userQueues.get(db);
  if (!queues) {
    queues = new Map();
    userQueues.set(db, queues);
  }
  const own = queues;
  const run = Promise.allSettled(userIds.map((userId) => own.get(userId))).then(work);
  const done = run.then(
    () => {},
    () => {},
  );
  for (const userId of userIds) own.set(userId, done);
  void done.then(() => {
    for (const userId of userIds) if (own.get(userId) === done) own.delete(userId);
  });
  return run;
}

export function insertNotifications(
  db: NotificationsDb,
  drafts: readonly NotificationDraft[],
  now: Date,
): Promise<InsertOutcome> {
  return afterEarlierOfSameUsers(
    db,
    drafts.map((draft) => draft.userId),
    () => insertInSeqOrder(db, drafts, now),
  );
}

/** What went in, and the sourceKeys refused as already stored. */
type InsertOutcome = { inserted: Notification[]; duplicateSourceKeys: Set<string> };

async function insertInSeqOrder(
  db: NotificationsDb,
  drafts: readonly NotificationDraft[],
  now: Date,
): Promise<InsertOutcome> {
  if (drafts.length === 0) return { inserted: [], duplicateSourceKeys: new Set() };
  const seqs = await claimUserSeqs(
    db,
    drafts.map((draft) => draft.userId),
  );
  const notifications: Notification[] = drafts.map((draft) => ({
    id: randomUUID(),
    ...draft,
    createdAt: now,
    readAt: null,
    seq: seqs.get(draft.userId) ?? 0,
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

import type { Collection } from 'mongodb';
import type { Notification, NotificationDocument } from '../inbox/notification.ts';

/** Where one user's stream stands: everything above `afterSeq` is still to come. */
export type StreamCursor = { userId: string; afterSeq: number };

/** What the live streams read from the store; one replica's hub asks it once per tick. */
export type NotificationFeed = {
  /** Up to `limit` notifications above each user's cursor, by ascending `seq`. */
  after(cursors: readonly StreamCursor[], limit: number): Promise<Notification[]>;
  /** Each user's highest `seq` visible now (0 for one who has none). */
  latestSeqs(userIds: readonly string[]): Promise<Map<string, number>>;
};

function toNotification({ _id, ...rest }: NotificationDocument): Notification {
  return { id: _id, ...rest };
}

/**
 * Groups cursors whose positions lie within a factor of two of each other: one clause per
 * group, `userId $in` the group and `seq` above the group's lowest, so a query holds a few
 * clauses however many streams are open, and reads at most twice the unseen range of any
 * one user. The exact cut per user is made in memory.
 */
function clausesFor(cursors: readonly StreamCursor[]) {
  const groups = new Map<number, { userIds: string[]; afterSeq: number }>();
  for (const { userId, afterSeq } of cursors) {
    const key = afterSeq <= 0 ? -1 : Math.floor(Math.log2(afterSeq));
    const group = groups.get(key);
    if (group) {
      group.userIds.push(userId);
      group.afterSeq = Math.min(group.afterSeq, afterSeq);
    } else groups.set(key, { userIds: [userId], afterSeq });
  }
  return [...groups.values()].map((g) => ({
    userId: { $in: g.userIds },
    seq: { $gt: g.afterSeq },
  }));
}

/**
 * The feed over the `notifications` collection. FerretDB has no change streams, so the
 * streams poll: one query a tick for every open stream of the replica. On MongoDB each
 * clause uses the `user_seq` index. FerretDB 1.24 on SQLite pushes none of it down and
 * scans the collection for every query (225 ms over 3,000 documents, measured), and an
 * `$or` of one clause per stream cost it 12 s at 1,000 streams against 0.35 s for these
 * grouped clauses: polling there is a safety net behind the onCreated fast path.
 */
export function mongoNotificationFeed(
  notifications: Collection<NotificationDocument>,
): NotificationFeed {
  return {
    async after(cursors, limit) {
      if (cursors.length === 0) return [];
      const after = new Map(cursors.map((c) => [c.userId, c.afterSeq]));
      const docs = await notifications
        .find({ $or: clausesFor(cursors) })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray();
      return docs
        .filter((doc) => doc.seq > (after.get(doc.userId) ?? Number.POSITIVE_INFINITY))
        .map((doc) => toNotification(doc as NotificationDocument));
    },
    async latestSeqs(userIds) {
      const latest = new Map<string, number>(userIds.map((userId) => [userId, 0]));
      if (userIds.length === 0) return latest;
      const docs = await notifications
        .find({ userId: { $in: [...userIds] } }, { projection: { _id: 0, userId: 1, seq: 1 } })
        .toArray();
      for (const { userId, seq } of docs)
        latest.set(userId, Math.max(latest.get(userId) ?? 0, seq));
      return latest;
    },
  };
}

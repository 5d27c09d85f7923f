import type { Collection } from 'mongodb';
import type { Notification, NotificationDocument } from '../inbox/notification.ts';

/** Where one user's stream stands: everything above `afterSeq` is still to come. */
export type StreamCursor = { userId: string; afterSeq: number };

/** What the live streams read from the store; one replica's hub asks it once per tick. */
export type NotificationFeed = {
  /** Up to `limit` notifications above each user's cursor, by ascending `seq`. */
  after(cursors: readonly StreamCursor[], limit: number): Promise<Notification[]>;
  /** The user's highest `seq` visible now; 0 when they have none. */
  latestSeq(userId: string): Promise<number>;
};

function toNotification({ _id, ...rest }: NotificationDocument): Notification {
  return { id: _id, ...rest };
}

/**
 * The feed over the `notifications` collection. FerretDB has no change streams, so the
 * streams poll: one query a tick for every open stream of the replica, each clause an
 * equality on userId and a range on seq (the `user_seq` index).
 */
export function mongoNotificationFeed(
  notifications: Collection<NotificationDocument>,
): NotificationFeed {
  return {
    async after(cursors, limit) {
      if (cursors.length === 0) return [];
      const docs = await notifications
        .find({ $or: cursors.map((c) => ({ userId: c.userId, seq: { $gt: c.afterSeq } })) })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray();
      return docs.map((doc) => toNotification(doc as NotificationDocument));
    },
    async latestSeq(userId) {
      const [last] = await notifications
        .find({ userId }, { projection: { seq: 1 } })
        .sort({ seq: -1 })
        .limit(1)
        .toArray();
      return last?.seq ?? 0;
    },
  };
}

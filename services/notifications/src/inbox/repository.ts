export const notificationTypes = [
  'welcome',
  'order_confirmed',
  'order_cancelled',
  'price_drop',
  'back_in_stock',
] as const;

export type NotificationType = (typeof notificationTypes)[number];

export type Notification = {
  id: string;
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: Date;
  readAt: Date | null;
};

/** Newest first; a page starts strictly after `after` (the last item of the previous page). */
export type InboxQuery = {
  userId: string;
  unreadOnly: boolean;
  limit: number;
  after?: { createdAt: Date; id: string } | undefined;
};

/**
 * A per-user inbox. `insertForEvent` records the notification together with the id of the
 * event that caused it, so a redelivered event adds nothing.
 */
export type InboxRepository = {
  insertForEvent(eventId: string, notification: Notification): Promise<'inserted' | 'duplicate'>;
  list(query: InboxQuery): Promise<Notification[]>;
  markRead(userId: string, id: string, at: Date): Promise<'marked' | 'not_found'>;
};

const newestFirst = (a: Notification, b: Notification) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Kept in memory until the notifications service gets its MongoDB inbox; the interface is
 * the one that store will implement.
 */
export function createMemoryInboxRepository(): InboxRepository {
  const seenEvents = new Set<string>();
  const all: Notification[] = [];
  return {
    async insertForEvent(eventId, notification) {
      if (seenEvents.has(eventId)) return 'duplicate';
      seenEvents.add(eventId);
      all.push(notification);
      all.sort(newestFirst);
      return 'inserted';
    },
    async list({ userId, unreadOnly, limit, after }) {
      return all
        .filter((n) => n.userId === userId && (!unreadOnly || n.readAt === null))
        .filter(
          (n) =>
            !after ||
            n.createdAt < after.createdAt ||
            (n.createdAt.getTime() === after.createdAt.getTime() && n.id < after.id),
        )
        .slice(0, limit);
    },
    async markRead(userId, id, at) {
      const found = all.find((n) => n.id === id && n.userId === userId);
      if (!found) return 'not_found';
      found.readAt ??= at;
      return 'marked';
    },
  };
}

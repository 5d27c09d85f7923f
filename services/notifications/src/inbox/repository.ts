export type NotificationType =
  | 'welcome'
  | 'order_confirmed'
  | 'order_cancelled'
  | 'price_drop'
  | 'back_in_stock';

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

/**
 * A per-user inbox. `insertForEvent` records the notification together with the id of the
 * event that caused it, so a redelivered event adds nothing.
 */
export type InboxRepository = {
  insertForEvent(eventId: string, notification: Notification): Promise<'inserted' | 'duplicate'>;
  listForUser(userId: string): Promise<Notification[]>;
};

export function createMemoryInboxRepository(): InboxRepository {
  const seenEvents = new Set<string>();
  const byUser = new Map<string, Notification[]>();
  return {
    async insertForEvent(eventId, notification) {
      if (seenEvents.has(eventId)) return 'duplicate';
      seenEvents.add(eventId);
      const inbox = byUser.get(notification.userId) ?? [];
      inbox.unshift(notification);
      byUser.set(notification.userId, inbox);
      return 'inserted';
    },
    listForUser: async (userId) => byUser.get(userId) ?? [],
  };
}

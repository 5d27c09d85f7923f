/**
 * The notification as the inbox, the live stream and the email outbox all see it: one
 * document per (event, user) in the `notifications` collection.
 */

export const notificationTypes = [
  'welcome',
  'order_confirmed',
  'order_cancelled',
  'price_drop',
  'back_in_stock',
] as const;

export type NotificationType = (typeof notificationTypes)[number];

/**
 * Mails about the account's security: sent whatever the preferences say, by email only
 * (never in the inbox, whose types are the ones above).
 */
export const securityMailTypes = ['login_locked', 'password_reset', 'email_verification'] as const;

/** What the email outbox takes: a notification's, or a security mail's. */
export type MailType = NotificationType | (typeof securityMailTypes)[number];

export type Notification = {
  /** A uuid, the document's `_id`; what clients see as `id`. */
  id: string;
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: Date;
  readAt: Date | null;
  /**
   * The next number of the user's own sequence (claimed in `user_seqs`, inbox/user-seqs.ts),
   * so a user's seqs run on with no gap unless an insert was lost or refused as a duplicate;
   * the live stream's event id, which it resumes after. Each user's sequence continues above
   * the one counter all users shared before (`counters`, `_id: 'notifications'`): documents
   * stored before keep their seqs, and new ones come after them.
   * 0 only on a notification handed to the email outbox alone (in-app off): never inserted.
   */
  seq: number;
  /**
   * `<event id>:<user id>`, unique in the collection: one event gives one user at most one
   * notification however often it is delivered.
   */
  sourceKey: string;
};

/** The stored shape: `_id` instead of `id`, otherwise the same fields. */
/** A notification as clients see it: in the inbox list and on the live stream. */
export function toNotificationView(n: Notification) {
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt?.toISOString() ?? null,
  };
}

export type NotificationDocument = Omit<Notification, 'id'> & { _id: string };

export const notificationsCollection = 'notifications';

export function sourceKeyOf(eventId: string, userId: string): string {
  return `${eventId}:${userId}`;
}

/**
 * Called after a notification was inserted (never for a duplicate), so the live stream can
 * push it; a stream that misses one catches up by `seq`.
 */
export type NotificationCreated = (notification: Notification) => void;

/**
 * Where a notification that should also go by email is handed over. Idempotent by
 * `notification.sourceKey`: the event handlers call it again on every redelivery (the
 * earlier attempt may have failed after the insert), and for a type whose in-app
 * preference is off with a notification that was never inserted (a fresh `id` each time).
 */
export type EmailOutbox = {
  enqueue(mail: { notification: MailNotification; to: string }): Promise<void>;
  /** Mails not sent yet, of every replica (the `notifications_mail_queued` gauge). */
  queued?(): Promise<number>;
  /** Deletes every mail of the user, queued or sent (user.deleted); answers how many. */
  erase?(userId: string): Promise<number>;
};

/** A notification as the email outbox takes it: any mail type. */
export type MailNotification = Omit<Notification, 'type'> & { type: MailType };

/** What the event handlers hand notifications to besides the inbox; both optional. */
export type NotificationSinks = {
  onCreated?: NotificationCreated | undefined;
  email?: EmailOutbox | undefined;
};

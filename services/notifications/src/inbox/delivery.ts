import { randomUUID } from 'node:crypto';
import type { Logger } from '@shop/platform';
import { erasedAmong } from '../account-erasure/repository.ts';
import type { NotificationsDb } from '../database.ts';
import { preferencesOfUsers } from '../preferences/repository.ts';
import { emailAddressesOf } from '../recipients/repository.ts';
import {
  type Notification,
  type NotificationSinks,
  type NotificationType,
  sourceKeyOf,
} from './notification.ts';
import { insertNotifications, notificationsBySourceKey } from './repository.ts';

export type DeliveryDeps = NotificationSinks & { db: NotificationsDb; logger: Logger };

export type NotificationContent = { title: string; body: string; data: Record<string, unknown> };

export type DeliveryCounts = { inserted: number; duplicates: number; emailed: number };

/**
 * Gives each of `userIds` the notification `eventId` causes, as each one's preferences for
 * `type` say: into the inbox (once per event and user, by sourceKey), and by email when
 * their address is known; nothing to a user whose account was deleted. Safe to run again for the same event: the inbox adds nothing,
 * and every email is handed over again to the outbox, which keeps one per sourceKey (an
 * earlier attempt may have failed between the insert and the hand-over). Preferences,
 * addresses and the inserts take one query each for the whole batch.
 */
export async function deliverToUsers(
  deps: DeliveryDeps,
  delivery: {
    eventId: string;
    type: NotificationType;
    userIds: readonly string[];
    content: (userId: string) => NotificationContent;
  },
  now: Date,
): Promise<DeliveryCounts> {
  const { db } = deps;
  const erased = await erasedAmong(db, delivery.userIds);
  const userIds = [...new Set(delivery.userIds)].filter((userId) => !erased.has(userId));
  if (userIds.length === 0) return { inserted: 0, duplicates: 0, emailed: 0 };
  const preferences = await preferencesOfUsers(db, userIds);
  const channelsOf = (userId: string) => preferences(userId)[delivery.type];
  const draftOf = (userId: string) => ({
    userId,
    type: delivery.type,
    sourceKey: sourceKeyOf(delivery.eventId, userId),
    ...delivery.content(userId),
  });

  const { inserted, duplicateSourceKeys } = await insertNotifications(
    db,
    userIds.filter((userId) => channelsOf(userId).inApp).map(draftOf),
    now,
  );
  for (const notification of inserted) deps.onCreated?.(notification);

  let emailed = 0;
  const email = deps.email;
  const emailUsers = email ? userIds.filter((userId) => channelsOf(userId).email) : [];
  const addresses = email ? await emailAddressesOf(db, emailUsers) : new Map<string, string>();
  if (email && addresses.size > 0) {
    const insertedByUser = new Map(inserted.map((n) => [n.userId, n]));
    // Only the duplicates that go by email are read back: on FerretDB a look-up by
    // sourceKey reads the whole collection.
    const stored = await notificationsBySourceKey(
      db,
      [...addresses.keys()]
        .map((userId) => sourceKeyOf(delivery.eventId, userId))
        .filter((sourceKey) => duplicateSourceKeys.has(sourceKey)),
    );
    for (const [userId, to] of addresses) {
      const draft = draftOf(userId);
      const notification: Notification = insertedByUser.get(userId) ??
        stored.get(draft.sourceKey) ?? {
          // In-app is off: it goes only to the outbox, and seq 0 says it was never inserted.
          id: randomUUID(),
          ...draft,
          createdAt: now,
          readAt: null,
          seq: 0,
        };
      await email.enqueue({ notification, to });
      emailed++;
    }
  }
  return { inserted: inserted.length, duplicates: duplicateSourceKeys.size, emailed };
}

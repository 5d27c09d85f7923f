import { escapeRegex, type NotificationsDb } from '../database.ts';
import { eraseUserSeqs } from '../inbox/user-seqs.ts';

/**
 * A deleted account's id and when it was erased, and nothing else: an event about the user
 * still in flight (an order settling, a redelivered welcome) must not store anything again.
 * Kept for good, like the bare user id orders and payments keep.
 */
export type ErasedUserDocument = { _id: string; erasedAt: Date };

/** Records the user as erased; the first time stands. */
export async function markErased(db: NotificationsDb, userId: string, now: Date): Promise<void> {
  await db.erasedUsers.updateOne(
    { _id: userId },
    { $setOnInsert: { erasedAt: now } },
    { upsert: true },
  );
}

/** Which of these users were erased (one look-up by `_id` for the whole batch). */
export async function erasedAmong(db: NotificationsDb, userIds: readonly string[]) {
  if (userIds.length === 0) return new Set<string>();
  const found = await db.erasedUsers
    .find({ _id: { $in: [...userIds] } }, { projection: { _id: 1 } })
    .toArray();
  return new Set(found.map((doc) => doc._id));
}

/** How many documents of each kind went, for the log. */
export type ErasedCounts = Record<string, number>;

/**
 * Deletes every document of the service's own collections about the user: inbox,
 * seqs, preferences, address, stream slots and sign-outs, and dead letters naming them.
 * Running it again deletes nothing more. Deleting the stream slots also ends the user's
 * open streams: each holder's renewal finds its lease gone.
 */
export async function eraseUser(db: NotificationsDb, userId: string): Promise<ErasedCounts> {
  const counts = async (deleting: Promise<{ deletedCount: number }>) =>
    (await deleting).deletedCount;
  return {
    notifications: await counts(db.notifications.deleteMany({ userId })),
    userSeqs: await eraseUserSeqs(db, userId),
    preferences: await counts(db.preferences.deleteMany({ _id: userId })),
    recipients: await counts(db.recipients.deleteMany({ _id: userId })),
    streamLeases: await counts(db.streamLeases.deleteMany({ userId })),
    signedOut: await counts(db.signedOut.deleteMany({ userId })),
    // An undeliverable event about them is kept as JSON text: the id appears quoted.
    deadLetters: await counts(
      db.deadLetters.deleteMany({ eventJson: { $regex: escapeRegex(JSON.stringify(userId)) } }),
    ),
  };
}

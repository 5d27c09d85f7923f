import { escapeRegex, type NotificationsDb } from '../database.ts';
import { eraseUserSeqs } from '../inbox/user-seqs.ts';

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

import type { NotificationsDb } from '../database.ts';

/**
 * Where a user's email goes, as user.registered announced it. Users registered before this
 * service kept recipients have no address here, and so get no email, until an event brings
 * one; no other event carries it and no service is asked for it.
 */
export type RecipientDocument = { _id: string; email: string; name: string; updatedAt: Date };

/** Records (or refreshes) a user's address; a redelivered event writes the same values again. */
export async function upsertRecipient(
  db: NotificationsDb,
  recipient: { userId: string; email: string; name: string },
  now: Date,
): Promise<void> {
  await db.recipients.updateOne(
    { _id: recipient.userId },
    { $set: { email: recipient.email, name: recipient.name, updatedAt: now } },
    { upsert: true },
  );
}

/** The known addresses among these users (one query for a page of wishlisters). */
export async function emailAddressesOf(
  db: NotificationsDb,
  userIds: string[],
): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const docs = await db.recipients.find({ _id: { $in: userIds } }).toArray();
  return new Map(docs.map((doc) => [doc._id, doc.email]));
}

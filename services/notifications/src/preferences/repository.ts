import type { NotificationsDb } from '../database.ts';
import { type NotificationType, notificationTypes } from '../inbox/notification.ts';

/** Where one type of notification goes: the in-app inbox (and stream), email, both or neither. */
export type Channels = { inApp: boolean; email: boolean };

export type Preferences = Record<NotificationType, Channels>;

/** A user who never chose gets everything everywhere. */
const defaultChannels: Channels = { inApp: true, email: true };

export type PreferencesDocument = {
  _id: string;
  /** Only the types the user set; the rest take the defaults. */
  channels: Partial<Preferences>;
  updatedAt: Date;
};

function withDefaults(channels: Partial<Preferences> | undefined): Preferences {
  return Object.fromEntries(
    notificationTypes.map((type) => [type, { ...defaultChannels, ...channels?.[type] }]),
  ) as Preferences;
}

export async function preferencesOf(db: NotificationsDb, userId: string): Promise<Preferences> {
  return withDefaults((await db.preferences.findOne({ _id: userId }))?.channels);
}

/** Several users' preferences in one query (a page of wishlisters). */
export async function preferencesOfUsers(
  db: NotificationsDb,
  userIds: string[],
): Promise<(userId: string) => Preferences> {
  const docs = await db.preferences.find({ _id: { $in: userIds } }).toArray();
  const byUser = new Map(docs.map((doc) => [doc._id, doc.channels]));
  return (userId) => withDefaults(byUser.get(userId));
}

/** Replaces the user's choices: a type left out goes back to the defaults. */
export async function replacePreferences(
  db: NotificationsDb,
  userId: string,
  channels: Partial<Preferences>,
  now: Date,
): Promise<Preferences> {
  await db.preferences.replaceOne({ _id: userId }, { channels, updatedAt: now }, { upsert: true });
  return withDefaults(channels);
}

import type { Logger } from '@shop/platform';
import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import type { ErasedUserDocument } from './account-erasure/repository.ts';
import type { DeadLetterDocument } from './dead-letters.ts';
import type { NotificationDocument } from './inbox/notification.ts';
import type { UserSeqDocument } from './inbox/user-seqs.ts';
import type { PreferencesDocument } from './preferences/repository.ts';
import type { RecipientDocument } from './recipients/repository.ts';
import type { SignedOutSessionDocument, StreamLeaseDocument } from './stream/leases.ts';
import type { StockLevelDocument } from './wishlist-alerts/stock-levels.ts';

/** The one notification counter of every user before seqs were per user (`_id: 'notifications'`, read only now). */
export type CounterDocument = { _id: string; seq: number };

/** The service's collections, typed; repositories are plain functions over this. */
export type NotificationsDb = {
  notifications: Collection<NotificationDocument>;
  counters: Collection<CounterDocument>;
  /** Each user's claimed seqs (inbox/user-seqs.ts). */
  userSeqs: Collection<UserSeqDocument>;
  preferences: Collection<PreferencesDocument>;
  recipients: Collection<RecipientDocument>;
  stockLevels: Collection<StockLevelDocument>;
  deadLetters: Collection<DeadLetterDocument>;
  /** The live stream's per-user slots and ended sessions (stream/leases.ts). */
  streamLeases: Collection<StreamLeaseDocument>;
  signedOut: Collection<SignedOutSessionDocument>;
  /** Users whose accounts were deleted: nothing new is kept about them (account-erasure). */
  erasedUsers: Collection<ErasedUserDocument>;
};

export function collectionsOf(db: Db): NotificationsDb {
  return {
    notifications: db.collection<NotificationDocument>('notifications'),
    counters: db.collection<CounterDocument>('counters'),
    userSeqs: db.collection<UserSeqDocument>('user_seqs'),
    preferences: db.collection<PreferencesDocument>('preferences'),
    recipients: db.collection<RecipientDocument>('recipients'),
    stockLevels: db.collection<StockLevelDocument>('stock_levels'),
    deadLetters: db.collection<DeadLetterDocument>('dead_letters'),
    streamLeases: db.collection<StreamLeaseDocument>('stream_leases'),
    signedOut: db.collection<SignedOutSessionDocument>('signed_out_sessions'),
    erasedUsers: db.collection<ErasedUserDocument>('erased_users'),
  };
}

/**
 * Creates the indexes the service's guarantees rest on; creating an existing one again is a
 * no-op, so every start runs it. No transactions anywhere (FerretDB v1 has none): each
 * guarantee is one unique index or one single-document update.
 */
export async function ensureIndexes(db: NotificationsDb): Promise<void> {
  // One notification per event per user, however often the event is delivered.
  await db.notifications.createIndex({ sourceKey: 1 }, { unique: true, name: 'source_key' });
  // A user's inbox newest first, and the stream's resume point; a seq is never given twice.
  await db.notifications.createIndex({ userId: 1, seq: -1 }, { unique: true, name: 'user_seq' });
  await db.notifications.createIndex({ userId: 1, readAt: 1 }, { name: 'user_unread' });
  await db.deadLetters.createIndex({ receivedAt: 1 }, { name: 'received_at' });
  // A user's stream slots; at most one holder per slot (the `_id`) and per lease.
  await db.streamLeases.createIndex({ userId: 1 }, { name: 'user' });
  await db.streamLeases.createIndex({ leaseId: 1 }, { unique: true, name: 'lease' });
  await db.streamLeases.createIndex({ expiresAt: 1 }, { name: 'expires_at' });
  await db.signedOut.createIndex({ signedOutAt: 1 }, { name: 'signed_out_at' });
}

export type NotificationsDatabase = {
  db: NotificationsDb;
  /** The database itself, for collections a feature keeps on its own (the email outbox). */
  mongo: Db;
  /** Resolves while the server answers a ping; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Connects to the database named in `url` and makes sure of its indexes.
 *
 * @example
 * const database = lifecycle.closes('database', await openNotificationsDatabase(config.MONGODB_URL, logger));
 */
export async function openNotificationsDatabase(
  url: string,
  logger: Logger,
): Promise<NotificationsDatabase> {
  // Short server selection, so /readyz and a failing request answer instead of hanging 30 s.
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  const mongo = client.db();
  const db = collectionsOf(mongo);
  await ensureIndexes(db);
  logger.info('database: MongoDB', { database: mongo.databaseName });
  return {
    db,
    mongo,
    async ping() {
      await mongo.command({ ping: 1 });
    },
    close: () => client.close(),
  };
}

/** The server's code for a write refused because a unique index already holds its value. */
export const duplicateKeyCode = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === duplicateKeyCode;
}

/** `text` as a regular expression that matches it literally (ids in `$regex` filters). */
export const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

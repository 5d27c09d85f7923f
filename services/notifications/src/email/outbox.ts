import { randomUUID } from 'node:crypto';
import { currentTraceparent } from '@shop/platform';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { escapeRegex } from '../database.ts';
import type { EmailOutbox, MailNotification, MailType } from '../inbox/notification.ts';
import { renderMail } from './render.ts';

const withTraceparent = (traceparent: string | undefined) => (traceparent ? { traceparent } : {});

/**
 * One mail to send, keyed by the notification's sourceKey (one per event and user), so a
 * redelivered event hands over the same mail again and the outbox keeps one.
 */
export type EmailOutboxDocument = {
  _id: string;
  notificationId: string;
  userId: string;
  type: MailType;
  to: string;
  subject: string;
  html: string;
  status: 'pending' | 'sent';
  attempts: number;
  /** Not before then: the backoff after a failure, or the lease of a sender that claimed it. */
  nextAttemptAt: Date;
  /** Whose claim the current attempt is; only that sender may settle it. */
  claim: string | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  /** The trace of the event that queued it: its send continues that trace. */
  traceparent?: string;
};

/**
 * A sender's claim on one attempt at one mail: `<mail id>@<the time it fell due>`. The
 * unique `_id` lets exactly one sender of all replicas make each attempt. (A conditional
 * findOneAndUpdate would not do: two concurrent ones on FerretDB 1.x both took the same
 * mail, measured in email.test.ts.)
 */
export type EmailClaimDocument = { _id: string; mailId: string; claimedAt: Date };

/**
 * What is kept of a mail once sent, under the same `_id`: enough to refuse the same mail
 * again, never its content. A sent mail leaves the outbox because FerretDB 1.x on SQLite
 * reads every document of a collection for any query not by `_id`: with sent mails kept
 * there, each poll of the sender read all of them, html and all (measured: 12 ms at 100
 * mails, 362 ms at 3,000), and the outbox only grows.
 */
export type SentMailDocument = Pick<
  EmailOutboxDocument,
  '_id' | 'notificationId' | 'userId' | 'type'
> & {
  sentAt: Date;
  attempts: number;
};

export type EmailOutboxStore = {
  mails: Collection<EmailOutboxDocument>;
  claims: Collection<EmailClaimDocument>;
  sent: Collection<SentMailDocument>;
};

export function emailOutboxStore(db: Db, prefix = 'email_'): EmailOutboxStore {
  return {
    mails: db.collection<EmailOutboxDocument>(`${prefix}outbox`),
    claims: db.collection<EmailClaimDocument>(`${prefix}claims`),
    sent: db.collection<SentMailDocument>(`${prefix}sent`),
  };
}

export async function ensureEmailOutboxIndexes(store: EmailOutboxStore): Promise<void> {
  await store.mails.createIndex({ status: 1, nextAttemptAt: 1 }, { name: 'due' });
  await store.claims.createIndex({ mailId: 1 }, { name: 'mail' });
  await moveSentMail(store);
}

/** Moves mails an earlier version marked sent in place out of the outbox (once). */
async function moveSentMail(store: EmailOutboxStore): Promise<void> {
  for await (const mail of store.mails.find({ status: 'sent' })) {
    await recordSent(store, mail, mail.sentAt ?? mail.createdAt);
    await store.mails.deleteOne({ _id: mail._id });
  }
}

const wasSent = async (store: EmailOutboxStore, id: string) =>
  (await store.sent.findOne({ _id: id }, { projection: { _id: 1 } })) !== null;

async function recordSent(store: EmailOutboxStore, mail: EmailOutboxDocument, sentAt: Date) {
  const { _id, notificationId, userId, type, attempts } = mail;
  try {
    await store.sent.insertOne({ _id, notificationId, userId, type, sentAt, attempts });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

const isDuplicateKey = (error: unknown) =>
  error instanceof MongoServerError && error.code === 11000;

/** Mails not sent yet: due, backing off after a failure, or held by a sender. */
export function countQueuedMail(store: EmailOutboxStore): Promise<number> {
  return store.mails.countDocuments({ status: 'pending' });
}

/** The outbox the event handlers enqueue to: the mail rendered now, sent later by the sender. */
export function mongoEmailOutbox(
  store: EmailOutboxStore,
  clock: () => Date = () => new Date(),
): EmailOutbox {
  return {
    async enqueue({ notification, to }: { notification: MailNotification; to: string }) {
      const now = clock();
      if (await wasSent(store, notification.sourceKey)) return;
      try {
        await store.mails.insertOne({
          _id: notification.sourceKey,
          notificationId: notification.id,
          userId: notification.userId,
          type: notification.type,
          to,
          ...renderMail(notification),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          claim: null,
          lastError: null,
          createdAt: now,
          sentAt: null,
          ...withTraceparent(currentTraceparent()),
        });
      } catch (error) {
        // Handed over before (a redelivery) and not sent yet: the first one stands.
        if (isDuplicateKey(error)) return;
        throw error;
      }
      // Sent while this copy went in: a sender records a mail sent before the mail leaves
      // the outbox, so the check above or the insert sees it, or this check does.
      if (await wasSent(store, notification.sourceKey))
        await store.mails.deleteOne({ _id: notification.sourceKey, attempts: 0 });
    },
    queued: () => countQueuedMail(store),
    erase: (userId) => eraseMailOf(store, userId),
  };
}

/**
 * Forgets every mail of the user: queued ones go unsent, what is kept of sent ones goes,
 * and so do the claims on either (their mail id, the sourceKey, ends in `:<userId>`). A
 * mail a sender holds right now may still go out, and its record of it come back.
 */
export async function eraseMailOf(store: EmailOutboxStore, userId: string): Promise<number> {
  const queued = await store.mails.deleteMany({ userId });
  const sent = await store.sent.deleteMany({ userId });
  await store.claims.deleteMany({ mailId: { $regex: `:${escapeRegex(userId)}$` } });
  return queued.deletedCount + sent.deletedCount;
}

/**
 * Takes up to `limit` due mails, each for `leaseMs`: a mail is this sender's only if its
 * claim went in first; it is then not due again until the lease has run out, when another
 * sender may take it over (its holder died).
 */
/** A mail a sender holds, with the time it fell due (which names its claim). */
export type ClaimedMail = EmailOutboxDocument & { dueAt: Date };

const claimId = (mailId: string, dueAt: Date) => `${mailId}@${dueAt.getTime()}`;

export async function claimDueMail(
  store: EmailOutboxStore,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<ClaimedMail[]> {
  const due = await store.mails
    .find({ status: 'pending', nextAttemptAt: { $lte: now } })
    .sort({ nextAttemptAt: 1 })
    .limit(limit)
    .toArray();
  const claimed: ClaimedMail[] = [];
  for (const mail of due) {
    try {
      await store.claims.insertOne({
        _id: claimId(mail._id, mail.nextAttemptAt),
        mailId: mail._id,
        claimedAt: now,
      });
    } catch (error) {
      if (isDuplicateKey(error)) continue;
      throw error;
    }
    const claim = randomUUID();
    const nextAttemptAt = new Date(now.getTime() + leaseMs);
    await store.mails.updateOne({ _id: mail._id }, { $set: { claim, nextAttemptAt } });
    claimed.push({ ...mail, claim, nextAttemptAt, dueAt: mail.nextAttemptAt });
  }
  return claimed;
}

export async function markSent(
  store: EmailOutboxStore,
  mail: EmailOutboxDocument,
  now: Date,
): Promise<void> {
  await recordSent(store, { ...mail, attempts: mail.attempts + 1 }, now);
  await store.mails.deleteOne({ _id: mail._id, claim: mail.claim });
  // The claim stays: a sender that read this mail as due before it was sent would otherwise
  // claim the same attempt again once the claim is gone, and send it a second time.
}

/** Forgets claims older than `age`; no sender still holds a read of a mail that old. */
export async function purgeClaims(
  store: EmailOutboxStore,
  now: Date,
  ageMs: number,
): Promise<number> {
  const purged = await store.claims.deleteMany({
    claimedAt: { $lt: new Date(now.getTime() - ageMs) },
  });
  return purged.deletedCount;
}

export async function markFailed(
  store: EmailOutboxStore,
  mail: EmailOutboxDocument,
  retryAt: Date,
  error: string,
): Promise<void> {
  await store.mails.updateOne(
    { _id: mail._id, claim: mail.claim },
    {
      $set: { nextAttemptAt: retryAt, claim: null, lastError: error.slice(0, 500) },
      $inc: { attempts: 1 },
    },
  );
}

/** Gives a claimed mail back unattempted: due as before, its claim withdrawn. */
export async function release(store: EmailOutboxStore, mail: ClaimedMail): Promise<void> {
  await store.mails.updateOne(
    { _id: mail._id, claim: mail.claim },
    { $set: { nextAttemptAt: mail.dueAt, claim: null } },
  );
  await store.claims.deleteOne({ _id: claimId(mail._id, mail.dueAt) });
}

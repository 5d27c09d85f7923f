import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from '../database.ts';

/**
 * One open stream's slot in its user's count, shared by every replica. The `_id` names the
 * slot (`<userId>#<n>`, n below the per-user limit) and is unique, so two opens racing for
 * the last slot cannot both take it: only one insert goes in. (A conditional update would
 * not do: on FerretDB 1.x two concurrent ones can both match, as email/outbox.ts found.)
 * The holding replica renews `expiresAt`; once it has passed, the slot is free again, so a
 * crashed replica leaks nothing.
 */
export type StreamLeaseDocument = {
  _id: string;
  userId: string;
  /** This lease only: a slot freed and taken again gets a new one. */
  leaseId: string;
  /** The replica that holds the stream, for diagnosis. */
  replicaId: string;
  /** The `sid` of the token the stream was opened with; null for a token without one. */
  sessionId: string | null;
  expiresAt: Date;
  /** Set when the user signed out of the stream's session: the holder ends the stream. */
  signedOutAt: Date | null;
};

/**
 * A session that ended by logout (`user.signed_out`), `_id` `<userId>:<sessionId>`: a stream
 * cannot open with a token of it, even when the sign-out landed between its checks.
 */
export type SignedOutSessionDocument = {
  _id: string;
  userId: string;
  sessionId: string;
  signedOutAt: Date;
};

export type StreamLeaseStore = {
  leases: Collection<StreamLeaseDocument>;
  signedOut: Collection<SignedOutSessionDocument>;
};

/** The collections, as in NotificationsDb (database.ts, which makes their indexes). */
export function streamLeaseStore(db: {
  streamLeases: Collection<StreamLeaseDocument>;
  signedOut: Collection<SignedOutSessionDocument>;
}): StreamLeaseStore {
  return { leases: db.streamLeases, signedOut: db.signedOut };
}

export type StreamHolder = { userId: string; sessionId?: string | undefined };

/**
 * Takes a free slot of the user's `limit` for `ttlMs`, or answers undefined when all are
 * held by live leases. Expired ones are deleted first (their holder stopped renewing).
 */
export async function takeSlot(
  store: StreamLeaseStore,
  lease: StreamHolder & { replicaId: string; limit: number; ttlMs: number; now: Date },
): Promise<StreamLeaseDocument | undefined> {
  const { userId, now } = lease;
  const held = await store.leases.find({ userId }).toArray();
  const expired = held.filter((doc) => doc.expiresAt <= now).map((doc) => doc.leaseId);
  if (expired.length > 0) {
    await store.leases.deleteMany({ leaseId: { $in: expired }, expiresAt: { $lte: now } });
  }
  const live = new Set(held.filter((doc) => doc.expiresAt > now).map((doc) => doc._id));
  // Also holds when the limit was lowered while slots above it were held.
  if (live.size >= lease.limit) return undefined;
  for (let slot = 0; slot < lease.limit; slot++) {
    const _id = `${userId}#${slot}`;
    if (live.has(_id)) continue;
    const document: StreamLeaseDocument = {
      _id,
      userId,
      leaseId: randomUUID(),
      replicaId: lease.replicaId,
      sessionId: lease.sessionId ?? null,
      expiresAt: new Date(now.getTime() + lease.ttlMs),
      signedOutAt: null,
    };
    try {
      await store.leases.insertOne(document);
      return document;
    } catch (error) {
      // Taken meanwhile, on this replica or another: try the next slot.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
  return undefined;
}

export async function releaseSlot(store: StreamLeaseStore, leaseId: string): Promise<void> {
  await store.leases.deleteOne({ leaseId });
}

export type LeaseStates = { lost: Set<string>; signedOut: Set<string> };

/**
 * Extends the given leases to `now + ttlMs` and says which are gone (expired and taken
 * over, or deleted) and which were signed out: their streams must end.
 */
export async function renewSlots(
  store: StreamLeaseStore,
  leaseIds: readonly string[],
  now: Date,
  ttlMs: number,
): Promise<LeaseStates> {
  const states: LeaseStates = { lost: new Set(), signedOut: new Set() };
  if (leaseIds.length === 0) return states;
  const ids = [...leaseIds];
  await store.leases.updateMany(
    { leaseId: { $in: ids } },
    { $set: { expiresAt: new Date(now.getTime() + ttlMs) } },
  );
  const found = await store.leases
    .find({ leaseId: { $in: ids } }, { projection: { leaseId: 1, signedOutAt: 1 } })
    .toArray();
  const present = new Map(found.map((doc) => [doc.leaseId, doc.signedOutAt]));
  for (const id of ids) {
    if (!present.has(id)) states.lost.add(id);
    else if (present.get(id)) states.signedOut.add(id);
  }
  return states;
}

const signedOutId = (userId: string, sessionId: string) => `${userId}:${sessionId}`;

/**
 * Records that the user signed out of `sessionId` and marks the leases of the streams it
 * ends: those opened with a token of that session, and those opened with a token that
 * names none (it could be of any session). Each replica's renewal finds its marked ones.
 * Safe to run again: the record stays the first, the marks are set again.
 */
export async function recordSignOut(
  store: StreamLeaseStore,
  signOut: { userId: string; sessionId: string },
  now: Date,
): Promise<number> {
  const { userId, sessionId } = signOut;
  try {
    await store.signedOut.insertOne({
      _id: signedOutId(userId, sessionId),
      userId,
      sessionId,
      signedOutAt: now,
    });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const marked = await store.leases.updateMany(
    { userId, sessionId: { $in: [sessionId, null] }, signedOutAt: null },
    { $set: { signedOutAt: now } },
  );
  return marked.modifiedCount;
}

export async function isSignedOut(store: StreamLeaseStore, holder: StreamHolder) {
  if (holder.sessionId === undefined) return false;
  const found = await store.signedOut.findOne({
    _id: signedOutId(holder.userId, holder.sessionId),
  });
  return found !== null;
}

/**
 * Deletes leases expired for longer than `graceMs` (of users who never came back) and
 * sign-out records older than `keepMs` (by then every token of the session has expired).
 */
export async function purgeStreamLeases(
  store: StreamLeaseStore,
  now: Date,
  options: { graceMs: number; keepMs: number },
): Promise<void> {
  await store.leases.deleteMany({ expiresAt: { $lt: new Date(now.getTime() - options.graceMs) } });
  await store.signedOut.deleteMany({
    signedOutAt: { $lt: new Date(now.getTime() - options.keepMs) },
  });
}

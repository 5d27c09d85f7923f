import type { NotificationsDb } from '../database.ts';
import { escapeRegex, isDuplicateKeyError } from '../database.ts';

/**
 * One claimed seq of one user: `_id: '<userId>:<seq>'`. A user's seqs are taken by
 * inserting these, so a seq is never given twice (the unique `_id`), and only inserts and
 * lookups by `_id` are used: on FerretDB over SQLite those are the only cheap operations
 * (measured with 10,000 documents in a collection: an insert about 2 ms, a findOne by
 * `_id` 7 ms, but any update 100 ms and a find by another field 270-450 ms, since both
 * read the whole collection; a counter document per user would cost an update each).
 */
export type UserSeqDocument = { _id: string };

/**
 * The counter that gave every notification its seq before seqs were per user. It is read,
 * never advanced: each user's sequence continues above it, so documents stored before keep
 * their seqs and every Last-Event-ID a client holds stays valid.
 */
export const legacyCounterId = 'notifications';

const claimId = (userId: string, seq: number) => `${userId}:${seq}`;

/** The highest seq this replica knows each user to have claimed; bounded, oldest out first. */
type KnownSeqs = Map<string, number>;
const knownSeqs = new WeakMap<NotificationsDb, KnownSeqs>();
const mostUsersKnown = 50_000;

function knownOf(db: NotificationsDb): KnownSeqs {
  let known = knownSeqs.get(db);
  if (!known) {
    known = new Map();
    knownSeqs.set(db, known);
  }
  return known;
}

function remember(known: KnownSeqs, userId: string, seq: number) {
  known.delete(userId);
  known.set(userId, seq);
  if (known.size > mostUsersKnown) {
    const oldest = known.keys().next().value;
    if (oldest !== undefined) known.delete(oldest);
  }
}

/**
 * Takes the next seq of each user's own sequence (the users distinct), in one unordered
 * insert when this replica's guesses are right: one above the last seq it took or saw for
 * the user, or one above the legacy counter for a user it does not know. A guess another
 * replica took first is followed by a search for the user's first free seq.
 *
 * A user's claimed seqs stay contiguous: each claim is either the first above the legacy
 * counter or one right above a claimed seq. So a gap in a user's stored notifications is
 * a seq whose notification was lost or refused as a duplicate, or one still being inserted.
 */
export async function claimUserSeqs(
  db: NotificationsDb,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  const known = knownOf(db);
  const legacy = userIds.every((userId) => known.has(userId)) ? 0 : await legacySeq(db);
  const guesses = userIds.map((userId) => (known.get(userId) ?? legacy) + 1);
  const taken = await insertClaims(
    db,
    userIds.map((userId, index) => claimId(userId, guesses[index] ?? 0)),
  );
  const claimed = new Map<string, number>();
  for (const [index, userId] of userIds.entries()) {
    const guess = guesses[index] ?? 0;
    const seq = taken.has(index) ? await claimAfter(db, userId, guess) : guess;
    claimed.set(userId, seq);
    remember(known, userId, seq);
  }
  return claimed;
}

async function legacySeq(db: NotificationsDb): Promise<number> {
  const counter = await db.counters.findOne({ _id: legacyCounterId });
  return counter?.seq ?? 0;
}

/** Inserts the claims unordered; answers the indexes of those already taken. */
async function insertClaims(db: NotificationsDb, ids: readonly string[]): Promise<Set<number>> {
  const taken = new Set<number>();
  if (ids.length === 0) return taken;
  try {
    await db.userSeqs.insertMany(
      ids.map((_id) => ({ _id })),
      { ordered: false },
    );
  } catch (error) {
    const writeErrors = duplicateWriteErrors(error);
    if (!writeErrors) throw error;
    for (const { index } of writeErrors) taken.add(index);
  }
  return taken;
}

/** The failed writes of a bulk insert when every one failed as a duplicate; else undefined. */
function duplicateWriteErrors(error: unknown): { index: number }[] | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = [writeErrors].flat() as { index: number; code: number }[];
  if (writeErrors === undefined || list.length === 0) return undefined;
  return list.every((e) => e.code === 11000) ? list : undefined;
}

/** Claims the user's first free seq above `taken` (a claimed one), trying again on a race. */
async function claimAfter(db: NotificationsDb, userId: string, taken: number): Promise<number> {
  let present = taken;
  for (;;) {
    const free = await firstFreeAbove(db, userId, present);
    try {
      await db.userSeqs.insertOne({ _id: claimId(userId, free) });
      return free;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      present = free;
    }
  }
}

/**
 * The lowest unclaimed seq above `present` (claimed): steps of 1, 2, 4... until one is free,
 * then halves the interval (claims are contiguous), so a replica far behind needs about
 * 2 log2(n) lookups by `_id`, and one just behind a few.
 */
async function firstFreeAbove(db: NotificationsDb, userId: string, present: number) {
  const claimed = async (seq: number) =>
    (await db.userSeqs.findOne({ _id: claimId(userId, seq) }, { projection: { _id: 1 } })) !== null;
  let low = present;
  let step = 1;
  while (await claimed(present + step)) {
    low = present + step;
    step *= 2;
  }
  let high = present + step;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await claimed(middle)) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * Deletes the user's claimed seqs (user.deleted) and this replica's memory of them. Other
 * replicas may still remember a seq: their next claim for the id then starts above it,
 * which keeps seqs unique all the same.
 */
export async function eraseUserSeqs(db: NotificationsDb, userId: string): Promise<number> {
  knownOf(db).delete(userId);
  const deleted = await db.userSeqs.deleteMany({ _id: { $regex: `^${escapeRegex(userId)}:` } });
  return deleted.deletedCount;
}

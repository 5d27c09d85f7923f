import type { Logger } from '@shop/platform';
import type { Notification } from '../inbox/notification.ts';
import type { NotificationFeed } from './feed.ts';

export type StreamHubOptions = {
  feed: NotificationFeed;
  logger: Logger;
  /**
   * How often the replica asks the store for what its open streams have not seen;
   * 'manual' when a test calls `poll()` itself.
   */
  pollIntervalMs: number | 'manual';
  /**
   * How long a stream holds a notification whose seq does not follow the last one sent. A
   * user's seqs are contiguous, so that is rare: an insert lost after taking its seq (a
   * crash, a failed write, a duplicate whose seq could not be given back), or two replicas
   * inserting for one user at the same moment, the later seq visible first. The held one
   * goes at the first poll that starts `gapWaitMs` after it was seen, or at once when the
   * missing one appears; after that the missing one is never sent (the inbox lists it).
   */
  gapWaitMs: number;
  /** The most notifications one poll reads for all streams together. */
  pollLimit?: number;
  /** Milliseconds since the epoch; the wall clock unless a test moves it. */
  now?: () => number;
};

export type StreamSubscription = {
  /** Resolves when the hub closes (shutdown); the stream should then end. */
  readonly closed: Promise<void>;
  unsubscribe(): void;
};

type Subscriber = {
  userId: string;
  lastSent: number;
  /** Fetched or pushed but not yet sent, by seq, with when this replica first saw each. */
  held: Map<number, { notification: Notification; seenAt: number }>;
  send(notification: Notification): void;
};

export type StreamHub = {
  /**
   * Sends `send` each of the user's notifications above `afterSeq` (the latest when not
   * given), in `seq` order, each once. Resolves once the stream is registered; rejects when
   * the store cannot say where the stream starts.
   */
  subscribe(options: {
    userId: string;
    afterSeq?: number | undefined;
    send(notification: Notification): void;
  }): Promise<StreamSubscription>;
  /** The fast path: a notification this replica just inserted (the `onCreated` hook). */
  push(notification: Notification): void;
  /** One poll of the store for every open stream (what the timer runs). */
  poll(): Promise<void>;
  /** Open streams on this replica. */
  size(): number;
  /** Stops polling and ends every stream. */
  close(): void;
};

/** Subscribers by user: the streams of one replica. */
type Streams = Map<string, Set<Subscriber>>;

/**
 * Asks the feed for the starting points of streams opened together in one query: on a
 * store that scans per query (FerretDB), 1,000 opens would otherwise be 1,000 scans.
 */
function batchedLatestSeq(feed: NotificationFeed): (userId: string) => Promise<number> {
  type Waiter = { resolve(seq: number): void; reject(error: unknown): void };
  let waiting = new Map<string, Waiter[]>();
  let asking = false;
  const ask = async () => {
    while (waiting.size > 0) {
      const batch = waiting;
      waiting = new Map();
      try {
        const latest = await feed.latestSeqs([...batch.keys()]);
        for (const [userId, waiters] of batch) {
          for (const waiter of waiters) waiter.resolve(latest.get(userId) ?? 0);
        }
      } catch (error) {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      }
    }
    asking = false;
  };
  return (userId) =>
    new Promise<number>((resolve, reject) => {
      waiting.set(userId, [...(waiting.get(userId) ?? []), { resolve, reject }]);
      if (!asking) {
        asking = true;
        void ask();
      }
    });
}

function hold(subscriber: Subscriber, notification: Notification, now: number) {
  if (notification.seq > subscriber.lastSent && !subscriber.held.has(notification.seq)) {
    subscriber.held.set(notification.seq, { notification, seenAt: now });
  }
}

/**
 * Sends what may go, lowest seq first: the next seq at once, any other once it was seen
 * `gapWaitMs` before `settledAt` (the start of a poll's query, so whatever lower seq had
 * become visible by then was in its answer). Without `settledAt` only the next seq goes.
 */
function flush(subscriber: Subscriber, gapWaitMs: number, settledAt?: number) {
  while (subscriber.held.size > 0) {
    const lowest = Math.min(...subscriber.held.keys());
    const entry = subscriber.held.get(lowest);
    if (!entry) return;
    const next = lowest === subscriber.lastSent + 1;
    const settled = settledAt !== undefined && entry.seenAt + gapWaitMs <= settledAt;
    if (!next && !settled) return;
    subscriber.held.delete(lowest);
    subscriber.lastSent = lowest;
    subscriber.send(entry.notification);
  }
}

/** One poll: every stream's unseen notifications in one query, then what may go is sent. */
async function pollStreams(
  streams: Streams,
  options: Pick<StreamHubOptions, 'feed' | 'gapWaitMs'> & { pollLimit: number; now: () => number },
) {
  if (streams.size === 0) return;
  const cursors = [...streams].map(([userId, subscribers]) => ({
    userId,
    afterSeq: Math.min(...[...subscribers].map((s) => s.lastSent)),
  }));
  const queriedAt = options.now();
  const found = await options.feed.after(cursors, options.pollLimit);
  const seenAt = options.now();
  for (const notification of found) {
    for (const subscriber of streams.get(notification.userId) ?? []) {
      hold(subscriber, notification, seenAt);
    }
  }
  for (const subscribers of streams.values()) {
    for (const subscriber of subscribers) flush(subscriber, options.gapWaitMs, queriedAt);
  }
}

/** Adds the subscriber to its user's set; the returned function takes it out again. */
function addSubscriber(streams: Streams, subscriber: Subscriber): () => void {
  const { userId } = subscriber;
  let subscribers = streams.get(userId);
  if (!subscribers) {
    subscribers = new Set();
    streams.set(userId, subscribers);
  }
  subscribers.add(subscriber);
  const own = subscribers;
  return () => {
    own.delete(subscriber);
    if (own.size === 0 && streams.get(userId) === own) streams.delete(userId);
  };
}

/**
 * The live streams of one replica. Each notification reaches a stream by whichever path
 * comes first: `push` (the `onCreated` hook when this replica inserted it, or the broadcast
 * of another replica's insert), or the poll, which finds what any replica inserted and
 * repairs what a lost push missed. A stream sends strictly by `seq`, each once: the next
 * seq of its user at once, a later one only after the missing ones or `gapWaitMs` (see
 * there), so a client resuming after Last-Event-ID misses nothing that was stored in time.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const now = options.now ?? Date.now;
  const pollOptions = { ...options, pollLimit: options.pollLimit ?? 1_000, now };
  const streams: Streams = new Map();
  const latestSeq = batchedLatestSeq(options.feed);
  let endAll: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => {
    endAll = resolve;
  });
  const poll = () => pollStreams(streams, pollOptions);
  const { pollIntervalMs, logger } = options;
  const polling = pollIntervalMs === 'manual' ? undefined : repeat(poll, pollIntervalMs, logger);

  return {
    async subscribe({ userId, afterSeq, send }) {
      const lastSent = afterSeq ?? (await latestSeq(userId));
      const unsubscribe = addSubscriber(streams, { userId, lastSent, held: new Map(), send });
      // A resumed stream catches up now, not at the next (slow) poll; reconnects that come
      // together share a poll or two.
      if (afterSeq !== undefined) polling?.soon();
      return { closed: allClosed, unsubscribe };
    },
    push(notification) {
      const seenAt = now();
      for (const subscriber of streams.get(notification.userId) ?? []) {
        hold(subscriber, notification, seenAt);
        flush(subscriber, options.gapWaitMs);
      }
    },
    poll,
    size() {
      let count = 0;
      for (const subscribers of streams.values()) count += subscribers.size;
      return count;
    },
    close() {
      polling?.stop();
      streams.clear();
      endAll();
    },
  };
}

/**
 * Runs `poll` every `pollIntervalMs` (counted from the end of the last) until stopped;
 * `soon()` runs it at once, or right after the one under way.
 */
function repeat(
  poll: () => Promise<void>,
  intervalMs: number,
  logger: Logger,
): { soon(): void; stop(): void } {
  let stopped = false;
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    if (stopped) return;
    running = true;
    poll()
      .catch((error) => logger.warn('polling for new notifications failed', { error }))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        } else schedule();
      });
  };
  const schedule = () => {
    if (!stopped) timer = setTimeout(run, intervalMs);
  };
  schedule();
  return {
    soon() {
      if (running) {
        again = true;
        return;
      }
      clearTimeout(timer);
      run();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

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
   * How long a notification may take from taking its `seq` to being visible. A stream
   * sends a notification at once when its seq follows the last sent; otherwise (seqs come
   * from one counter for all users, so a user's are rarely contiguous) it holds it until it
   * has been seen this long, by which time any lower seq of the same user (taken earlier,
   * on any replica) is visible too, or lost (a duplicate's seq is never used).
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
 * The live streams of one replica. Each notification reaches a stream by either of two
 * paths, whichever comes first: the `onCreated` hook when this replica inserted it, or the
 * poll, which finds what any replica inserted. A stream sends strictly by `seq` with no
 * duplicate, and (for inserts that become visible within `gapWaitMs`) with no gap, so a
 * client resuming after Last-Event-ID misses nothing: a notification that does not follow
 * the last one sent waits until any lower one would have shown.
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

/** Runs `poll` every `pollIntervalMs` (counted from the end of the last) until stopped. */
function repeat(poll: () => Promise<void>, intervalMs: number, logger: Logger): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      poll()
        .catch((error) => logger.warn('polling for new notifications failed', { error }))
        .finally(schedule);
    }, intervalMs);
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

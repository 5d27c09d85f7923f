import type { Logger } from '@shop/platform';
import type { Notification } from '../inbox/notification.ts';
import type { NotificationFeed } from './feed.ts';

export type StreamHubOptions = {
  feed: NotificationFeed;
  logger: Logger;
  /** How often the replica asks the store for what its open streams have not seen. */
  pollIntervalMs: number;
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
  /** Open streams on this replica. */
  size(): number;
  /** Stops polling and ends every stream. */
  close(): void;
};

/**
 * The live streams of one replica. Each notification reaches a stream by either of two
 * paths, whichever comes first: the `onCreated` hook when this replica inserted it, or the
 * poll, which finds what any replica inserted. A stream sends strictly by `seq` with no
 * duplicate, and (for inserts that become visible within `gapWaitMs`) with no gap, so a
 * client resuming after Last-Event-ID misses nothing: a notification that does not follow
 * the last one sent waits until any lower one would have shown.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const { feed, logger } = options;
  const pollLimit = options.pollLimit ?? 1_000;
  const byUser = new Map<string, Set<Subscriber>>();
  let closed = false;
  let endAll: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => {
    endAll = resolve;
  });
  let timer: NodeJS.Timeout | undefined;

  // Streams opened together ask for their starting points in one query: on a store that
  // scans per query (FerretDB), 1,000 opens would otherwise be 1,000 scans.
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
  const latestSeq = (userId: string) =>
    new Promise<number>((resolve, reject) => {
      waiting.set(userId, [...(waiting.get(userId) ?? []), { resolve, reject }]);
      if (!asking) {
        asking = true;
        void ask();
      }
    });

  const hold = (subscriber: Subscriber, notification: Notification, now: number) => {
    if (notification.seq > subscriber.lastSent && !subscriber.held.has(notification.seq)) {
      subscriber.held.set(notification.seq, { notification, seenAt: now });
    }
  };

  /**
   * Sends what may go, lowest seq first: the next seq at once, any other once it was seen
   * `gapWaitMs` before `settledAt` (the start of a poll's query, so whatever lower seq had
   * become visible by then was in its answer). Without `settledAt` only the next seq goes.
   */
  const flush = (subscriber: Subscriber, settledAt?: number) => {
    while (subscriber.held.size > 0) {
      const lowest = Math.min(...subscriber.held.keys());
      const entry = subscriber.held.get(lowest);
      if (!entry) return;
      const next = lowest === subscriber.lastSent + 1;
      const settled = settledAt !== undefined && entry.seenAt + options.gapWaitMs <= settledAt;
      if (!next && !settled) return;
      subscriber.held.delete(lowest);
      subscriber.lastSent = lowest;
      subscriber.send(entry.notification);
    }
  };

  const poll = async () => {
    if (byUser.size === 0) return;
    const cursors = [...byUser].map(([userId, subscribers]) => ({
      userId,
      afterSeq: Math.min(...[...subscribers].map((s) => s.lastSent)),
    }));
    const queriedAt = Date.now();
    const found = await feed.after(cursors, pollLimit);
    const now = Date.now();
    for (const notification of found) {
      for (const subscriber of byUser.get(notification.userId) ?? []) {
        hold(subscriber, notification, now);
      }
    }
    for (const subscribers of byUser.values()) {
      for (const subscriber of subscribers) flush(subscriber, queriedAt);
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      poll()
        .catch((error) => logger.warn('polling for new notifications failed', { error }))
        .finally(schedule);
    }, options.pollIntervalMs);
  };
  schedule();

  return {
    async subscribe({ userId, afterSeq, send }) {
      const subscriber: Subscriber = {
        userId,
        lastSent: afterSeq ?? (await latestSeq(userId)),
        held: new Map(),
        send,
      };
      let subscribers = byUser.get(userId);
      if (!subscribers) {
        subscribers = new Set();
        byUser.set(userId, subscribers);
      }
      subscribers.add(subscriber);
      return {
        closed: allClosed,
        unsubscribe() {
          subscribers.delete(subscriber);
          if (subscribers.size === 0 && byUser.get(userId) === subscribers) byUser.delete(userId);
        },
      };
    },
    push(notification) {
      const now = Date.now();
      for (const subscriber of byUser.get(notification.userId) ?? []) {
        hold(subscriber, notification, now);
        flush(subscriber);
      }
    },
    size() {
      let count = 0;
      for (const subscribers of byUser.values()) count += subscribers.size;
      return count;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      byUser.clear();
      endAll();
    },
  };
}

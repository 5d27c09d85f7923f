import type { Logger } from '@shop/platform';
import type { Notification } from '../inbox/notification.ts';
import type { NotificationFeed } from './feed.ts';

export type StreamHubOptions = {
  feed: NotificationFeed;
  logger: Logger;
  /** How often the replica asks the store for what its open streams have not seen. */
  pollIntervalMs: number;
  /**
   * How long a stream holds back a notification while a lower `seq` of the same user is
   * missing (allocated by another replica, not yet visible); past it the lower one is
   * taken for lost (a duplicate's seq is never used) and the stream moves on.
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
  /** Fetched or pushed but not yet sendable, by seq. */
  held: Map<number, Notification>;
  /** When the stream began waiting for `lastSent + 1`. */
  gapSince: number | undefined;
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
 * duplicate; a notification above a missing seq waits up to `gapWaitMs` for it.
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

  const hold = (subscriber: Subscriber, notification: Notification) => {
    if (notification.seq > subscriber.lastSent) subscriber.held.set(notification.seq, notification);
  };

  const flush = (subscriber: Subscriber, now: number) => {
    for (;;) {
      const next = subscriber.held.get(subscriber.lastSent + 1);
      if (next) {
        subscriber.held.delete(next.seq);
        subscriber.lastSent = next.seq;
        subscriber.gapSince = undefined;
        subscriber.send(next);
        continue;
      }
      if (subscriber.held.size === 0) {
        subscriber.gapSince = undefined;
        return;
      }
      subscriber.gapSince ??= now;
      if (now - subscriber.gapSince < options.gapWaitMs) return;
      const lowest = Math.min(...subscriber.held.keys());
      logger.debug('stream skips a seq that never appeared', {
        userId: subscriber.userId,
        from: subscriber.lastSent + 1,
        to: lowest - 1,
      });
      subscriber.lastSent = lowest - 1;
    }
  };

  const poll = async () => {
    if (byUser.size === 0) return;
    const cursors = [...byUser].map(([userId, subscribers]) => ({
      userId,
      afterSeq: Math.min(...[...subscribers].map((s) => s.lastSent)),
    }));
    const found = await feed.after(cursors, pollLimit);
    const now = Date.now();
    for (const notification of found) {
      for (const subscriber of byUser.get(notification.userId) ?? [])
        hold(subscriber, notification);
    }
    for (const subscribers of byUser.values()) {
      for (const subscriber of subscribers) flush(subscriber, now);
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
        gapSince: undefined,
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
        hold(subscriber, notification);
        flush(subscriber, now);
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

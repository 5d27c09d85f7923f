import { setTimeout as delay } from 'node:timers/promises';

/** Time as a loop that waits sees it; tests pass a clock they move instead of waiting. */
export type Clock = {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
};

/** The wall clock; its sleeps never keep a process alive that has nothing else to do. */
export const systemClock: Clock = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    try {
      await delay(ms, undefined, { ref: false, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (!signal?.aborted) throw error;
    }
  },
};

/**
 * `promise`, or a rejection once `ms` have passed without it settling; for work a caller
 * must not wait on for long (a metrics scrape reading the database). The timer never keeps
 * the process alive.
 */
export function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

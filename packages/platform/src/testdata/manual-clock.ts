import type { Clock } from '../clock.ts';

type Sleeper = { until: number; ms: number; resolve: () => void };

/**
 * A clock that moves only when the test calls `advance`. `sleeping()` resolves once the
 * code under test waits on it, which is how a test knows a loop has finished its step.
 */
export function manualClock(start = 1_000_000) {
  let now = start;
  const sleepers = new Set<Sleeper>();
  let onSleep: Array<(ms: number) => void> = [];
  const wakeDue = () => {
    for (const sleeper of sleepers) {
      if (sleeper.until <= now) {
        sleepers.delete(sleeper);
        sleeper.resolve();
      }
    }
  };
  const clock = {
    now: () => now,
    sleep(ms: number, signal?: AbortSignal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const sleeper: Sleeper = { until: now + ms, ms, resolve };
        sleepers.add(sleeper);
        signal?.addEventListener(
          'abort',
          () => {
            sleepers.delete(sleeper);
            resolve();
          },
          { once: true },
        );
        const waiting = onSleep;
        onSleep = [];
        for (const notify of waiting) notify(ms);
      });
    },
    /** Moves time on, ending every sleep that is due by then. */
    advance(ms: number) {
      now += ms;
      wakeDue();
    },
    /** Resolves with the length of a sleep in progress, waiting for one to start. */
    sleeping(): Promise<number> {
      const [current] = sleepers;
      if (current) return Promise.resolve(current.ms);
      return new Promise((resolve) => onSleep.push(resolve));
    },
  } satisfies Clock & Record<string, unknown>;
  return clock;
}

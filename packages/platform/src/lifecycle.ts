import { type Clock, systemClock } from './clock.ts';
import type { Logger } from './logger.ts';

/** Anything a service opens and must close on shutdown: pools, relays, keyrings, timers. */
export type Closable = { close(): unknown } | { stop(): unknown };

/**
 * What a service runs besides answering requests, declared once in main.ts: resources to
 * close on shutdown and periodic jobs. On shutdown jobs stop first (a run in progress
 * finishes), then resources close in the reverse of the order they were declared, so
 * whatever was opened on top of another (a relay on a database) is closed before it.
 */
export type Lifecycle = {
  /**
   * Closes `resource` on shutdown; returns it, so it can be declared where it is opened.
   *
   * @example
   * const keyring = lifecycle.closes('keyring', await signingKeyringViaDapr({ config, sidecar, logger }));
   */
  closes<T extends Closable>(name: string, resource: T): T;
  /**
   * Runs `job` now and then every `intervalMs`. A failed run is logged and the next one
   * still comes; runs never overlap, so a slow one delays the next instead of piling up.
   *
   * @example
   * lifecycle.every('session purge', 60 * 60_000, () => purgeSessions({ db, logger }));
   */
  every(name: string, intervalMs: number, job: () => Promise<unknown>): void;
  /**
   * Runs `end` as soon as shutdown begins, before the server waits for the requests in
   * flight: for responses that never finish by themselves (event streams), which would
   * otherwise hold that wait until the shutdown timeout and be cut instead of closed.
   *
   * @example
   * lifecycle.endsBeforeDrain('notification streams', () => streams.close());
   */
  endsBeforeDrain(name: string, end: () => unknown): void;
  /** Runs every `endsBeforeDrain`; runService calls it first on shutdown. */
  beginDrain(): Promise<void>;
  /** Stops every job, then closes every resource; a failure is logged and the rest still close. */
  close(): Promise<void>;
};

/** Runs `job` now and then `intervalMs` after each run ends, until `stopped` aborts. */
async function repeat(
  name: string,
  intervalMs: number,
  job: () => Promise<unknown>,
  context: { logger: Logger; clock: Clock; stopped: AbortSignal },
): Promise<void> {
  const { logger, clock, stopped } = context;
  while (!stopped.aborted) {
    try {
      await job();
      logger.debug('job done', { job: name });
    } catch (error) {
      logger.warn('job failed; it runs again later', { job: name, error });
    }
    await clock.sleep(intervalMs, stopped);
  }
}

/** `clock` times the periodic jobs; the wall clock unless a test moves it. */
export function createLifecycle(logger: Logger, clock: Clock = systemClock): Lifecycle {
  const resources: Array<{ name: string; resource: Closable }> = [];
  const jobs: Array<{ stop(): Promise<void> }> = [];
  const beforeDrain: Array<{ name: string; end: () => unknown }> = [];

  return {
    endsBeforeDrain(name, end) {
      beforeDrain.push({ name, end });
    },
    async beginDrain() {
      await Promise.all(
        beforeDrain.map(async ({ name, end }) => {
          try {
            await end();
          } catch (error) {
            logger.error('ending before the drain failed', { resource: name, error });
          }
        }),
      );
    },
    closes(name, resource) {
      resources.push({ name, resource });
      return resource;
    },
    every(name, intervalMs, job) {
      const stopped = new AbortController();
      const running = repeat(name, intervalMs, job, { logger, clock, stopped: stopped.signal });
      jobs.push({
        async stop() {
          stopped.abort();
          await running;
        },
      });
    },
    async close() {
      await Promise.all(jobs.map((job) => job.stop()));
      for (const { name, resource } of resources.reverse()) {
        try {
          await ('close' in resource ? resource.close() : resource.stop());
        } catch (error) {
          logger.error('closing failed', { resource: name, error });
        }
      }
    },
  };
}

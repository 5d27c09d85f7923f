import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import { withinMs } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { unsentBacklog } from './outbox.ts';
import { type PlatformTables, platformView } from './platform-tables.ts';

/** A scrape waits this long at most for the backlog query; past it the last values stand. */
const defaultQueryTimeoutMs = 1_000;

type Backlog = Awaited<ReturnType<typeof unsentBacklog>>;

/**
 * The outbox's health on `registry`, read from the database when scraped:
 * `outbox_backlog_events` (rows not sent yet, whoever holds them) and
 * `outbox_oldest_event_age_seconds` (0 when none). Both gauges share one query per
 * scrape; a query that fails or is slower than `queryTimeoutMs` is logged and leaves the
 * previous values, so a slow database never holds up a scrape.
 *
 * @example
 * registerOutboxMetrics({ registry: app.metricsRegistry, db: deps.db, logger });
 */
export function registerOutboxMetrics<DB extends PlatformTables>(options: {
  registry: Registry;
  db: Kysely<DB>;
  logger: Logger;
  queryTimeoutMs?: number;
}): void {
  const db = platformView(options.db);
  const timeoutMs = options.queryTimeoutMs ?? defaultQueryTimeoutMs;
  let inFlight: Promise<Backlog | undefined> | undefined;
  // Both gauges' collect() run side by side in one scrape: they share one query.
  const sample = () => {
    inFlight ??= withinMs(unsentBacklog(db), timeoutMs)
      .catch((error: unknown) => {
        options.logger.warn('outbox backlog not measured; keeping the last values', { error });
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  new Gauge({
    name: 'outbox_backlog_events',
    help: 'Outbox rows not yet accepted by the broker',
    registers: [options.registry],
    async collect() {
      const backlog = await sample();
      if (backlog) this.set(backlog.count);
    },
  });
  new Gauge({
    name: 'outbox_oldest_event_age_seconds',
    help: 'Age of the oldest outbox row not yet accepted by the broker (0 when none)',
    registers: [options.registry],
    async collect() {
      const backlog = await sample();
      if (backlog) this.set(backlog.oldestAgeSeconds);
    },
  });
}

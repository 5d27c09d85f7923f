import { type Kysely, sql, type Transaction } from 'kysely';
import type { ShopEvent } from '../events/cloud-event.ts';
import type { Logger } from '../logger.ts';
import { type PlatformTables, platformView } from './platform-tables.ts';

/**
 * Records `event` for publishing inside the caller's transaction, so it is sent if and
 * only if the transaction commits. The event keeps its id through every retry.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await insertOrder(trx, order);
 *   await enqueueEvent(trx, buildEvent('order.created', data, { source: 'orders' }));
 * });
 * relay.wake();
 */
export async function enqueueEvent<DB extends PlatformTables>(
  trx: Transaction<DB>,
  event: ShopEvent,
): Promise<void> {
  await platformView(trx)
    .insertInto('outbox')
    .values({ event_id: event.id, type: event.type, event: JSON.stringify(event) })
    .execute();
}

export type OutboxRelayOptions<DB extends PlatformTables> = {
  db: Kysely<DB>;
  /** Sends one event to the broker; throws when it was not accepted. */
  publish: (event: ShopEvent) => Promise<void>;
  logger: Logger;
  /** How often to look for rows nobody woke the relay for (another replica's, or after a restart). */
  pollIntervalMs?: number;
  batchSize?: number;
  /** First pause after a failed publish; it doubles on each failure in a row up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a relay may hold a claimed batch before another replica takes it over. */
  leaseMs?: number;
  /** How long sent rows stay for inspection before they are purged. */
  retentionMs?: number;
};

export type OutboxRelay = {
  /** Starts a pass now unless one is running or the relay is backing off after a failure. */
  wake(): void;
  /** Resolves once no unsent row is left (in any replica's hands); rejects if the relay stops first. */
  drain(): Promise<void>;
  /** Lets a running pass finish, then stops. */
  stop(): Promise<void>;
};

type Pass = 'idle' | 'more' | 'failed';

const purgeEveryMs = 10 * 60_000;

/**
 * Publishes outbox rows oldest first and marks them sent. A batch is claimed with
 * `FOR UPDATE SKIP LOCKED` plus a lease, so replicas share the work without sending a
 * row twice while the lease holds; a relay that dies mid-batch leaves it to another
 * once the lease runs out. A failed publish is retried, same event id, with capped
 * exponential backoff, and holds back the rows behind it in this relay's batch, so one
 * relay keeps its events in order (several replicas publish their batches side by side:
 * consumers must not rely on order across them). Attempts and the last error are recorded
 * on the row, and every failure is logged, so a row the broker keeps refusing is visible.
 * Sent rows are purged after `retentionMs`.
 *
 * @example
 * const relay = startOutboxRelay({ db, logger, publish: (event) => sidecar.publish(event) });
 * // after each commit that enqueued an event:
 * relay.wake();
 * // on shutdown:
 * await relay.stop();
 */
export function startOutboxRelay<DB extends PlatformTables>(
  options: OutboxRelayOptions<DB>,
): OutboxRelay {
  const db = platformView(options.db);
  const { publish, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  // A retry every few seconds costs a broken broker nothing, and once it is back the
  // backlog goes out within that time rather than after a long sleep.
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const leaseSeconds = (options.leaseMs ?? 60_000) / 1_000;
  const retentionSeconds = (options.retentionMs ?? 3 * 24 * 3_600_000) / 1_000;

  let stopped = false;
  let failuresInARow = 0;
  let lastPurgeAt = Number.NEGATIVE_INFINITY;
  let wakeRequested = false;
  let interruptSleep: ((reason: 'wake' | 'stop') => void) | undefined;
  let passEnded: Array<() => void> = [];

  // A purge that fails is tried again next time; it must never hold up publishing.
  const purge = async () => {
    lastPurgeAt = Date.now();
    try {
      const { numDeletedRows } = await db
        .deleteFrom('outbox')
        .where('sent_at', '<', sql<Date>`now() - make_interval(secs => ${retentionSeconds})`)
        .executeTakeFirst();
      if (numDeletedRows > 0n) logger.debug('outbox purged', { rows: Number(numDeletedRows) });
    } catch (error) {
      logger.warn('outbox purge failed', { error });
    }
  };

  const claim = () =>
    db
      .with('claimed', (qc) =>
        qc
          .updateTable('outbox')
          .set({ claimed_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
          .where('event_id', 'in', (qb) =>
            qb
              .selectFrom('outbox')
              .select('event_id')
              .where('sent_at', 'is', null)
              .where((eb) =>
                eb.or([
                  eb('claimed_until', 'is', null),
                  eb('claimed_until', '<', sql<Date>`now()`),
                ]),
              )
              .orderBy('position')
              .limit(batchSize)
              .forUpdate()
              .skipLocked(),
          )
          .returning(['position', 'event_id', 'event', 'attempts']),
      )
      .selectFrom('claimed')
      .select(['event_id', 'event', 'attempts'])
      .orderBy('position')
      .execute();

  const release = async (eventIds: string[]) => {
    if (eventIds.length === 0) return;
    await db
      .updateTable('outbox')
      .set({ claimed_until: null })
      .where('event_id', 'in', eventIds)
      .execute();
  };

  const pass = async (): Promise<Pass> => {
    if (Date.now() - lastPurgeAt >= purgeEveryMs) await purge();
    const rows = await claim();
    const claimedAt = Date.now();
    const sent: string[] = [];
    let failure: { eventId: string; attempts: number; error: unknown } | undefined;
    let outOfLease = false;
    for (const row of rows) {
      // Slow publishes must not outlive the claim, or another replica would take these
      // rows while this one still sends them: past half the lease, the rest is released.
      if (Date.now() - claimedAt > (leaseSeconds * 1_000) / 2) {
        outOfLease = true;
        break;
      }
      try {
        await publish(row.event);
        sent.push(row.event_id);
      } catch (error) {
        failure = { eventId: row.event_id, attempts: row.attempts + 1, error };
        break;
      }
    }
    if (sent.length > 0) {
      await db
        .updateTable('outbox')
        .set({ sent_at: sql<Date>`now()`, claimed_until: null })
        .where('event_id', 'in', sent)
        .execute();
    }
    if (!failure) {
      if (!outOfLease) return rows.length === batchSize ? 'more' : 'idle';
      await release(rows.slice(sent.length).map((row) => row.event_id));
      return 'more';
    }

    const { eventId, attempts, error } = failure;
    const message = error instanceof Error ? error.message : String(error);
    await db
      .updateTable('outbox')
      .set({ attempts, last_error: message.slice(0, 2_000), claimed_until: null })
      .where('event_id', '=', eventId)
      .execute();
    // Released, not kept until the lease ends, so the next pass resumes in order.
    await release(rows.slice(sent.length + 1).map((row) => row.event_id));
    logger.warn('outbox publish failed; will retry', { eventId, attempts, error });
    return 'failed';
  };

  const sleep = (ms: number, wakeable: boolean) =>
    new Promise<void>((resolve) => {
      // The relay alone should not keep a process alive that has nothing else to do.
      const timer = setTimeout(done, ms).unref();
      function done() {
        clearTimeout(timer);
        interruptSleep = undefined;
        resolve();
      }
      interruptSleep = (reason) => {
        if (reason === 'stop' || wakeable) done();
      };
    });

  const loop = async () => {
    while (!stopped) {
      wakeRequested = false;
      let outcome: Pass;
      try {
        outcome = await pass();
      } catch (error) {
        logger.error('outbox relay pass failed; will retry', { error });
        outcome = 'failed';
      }
      if (outcome === 'failed') {
        failuresInARow++;
      } else if (failuresInARow > 0) {
        logger.info('outbox relay recovered', { failuresInARow });
        failuresInARow = 0;
      }
      const ended = passEnded;
      passEnded = [];
      for (const resolve of ended) resolve();
      if (stopped || outcome === 'more') continue;
      if (outcome === 'failed') {
        const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (failuresInARow - 1));
        // Jitter keeps replicas that failed together from retrying in lockstep.
        await sleep(backoff * (0.8 + Math.random() * 0.4), false);
      } else if (!wakeRequested) {
        await sleep(pollIntervalMs, true);
      }
    }
  };

  const running = loop();

  const nextPassEnded = () => new Promise<void>((resolve) => passEnded.push(resolve));

  const relay: OutboxRelay = {
    wake() {
      wakeRequested = true;
      interruptSleep?.('wake');
    },
    async drain() {
      // One wake only: waking again after a pass that found every row in other hands
      // would spin, and on PGlite, whose queries never yield to I/O, starve those hands.
      relay.wake();
      for (;;) {
        const unsent = await db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('sent_at', 'is', null)
          .executeTakeFirstOrThrow();
        if (Number(unsent.count) === 0) return;
        if (stopped) throw new Error('the outbox relay stopped before the outbox drained');
        await nextPassEnded();
      }
    },
    async stop() {
      stopped = true;
      interruptSleep?.('stop');
      await running;
      for (const resolve of passEnded) resolve();
    },
  };
  return relay;
}

import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../clock.ts';
import type { ShopEvent } from '../events/cloud-event.ts';
import type { Logger } from '../logger.ts';
import { claimInSpan, publishInSpan } from '../tracing/outbox-spans.ts';
import {
  type ClaimedRow,
  claimBatch,
  countUnsent,
  markSent,
  purgeSent,
  recordFailure,
  releaseClaims,
} from './outbox.ts';
import { type PlatformTables, platformView } from './platform-tables.ts';

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
  /** Times the relay's pauses, purges and leases; the wall clock unless a test moves it. */
  clock?: Clock;
};

export type OutboxRelay = {
  /** Starts a pass now unless one is running or the relay is backing off after a failure. */
  wake(): void;
  /** Resolves once no unsent row is left (in any replica's hands); rejects if the relay stops first. */
  drain(): Promise<void>;
  /** Lets a running pass finish, then stops. */
  stop(): Promise<void>;
};

/** What the relay needs, fixed at start. */
type Relay = {
  db: Kysely<PlatformTables>;
  publish: (event: ShopEvent) => Promise<void>;
  logger: Logger;
  clock: Clock;
  pollIntervalMs: number;
  batchSize: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  leaseMs: number;
  retentionMs: number;
};

/** The loop's timing state: all that changes while the relay runs. */
type RelayState = {
  stopped: boolean;
  wakeRequested: boolean;
  failuresInARow: number;
  lastPurgeAt: number;
  /** Ends the current pause early: a poll pause on wake or stop, a backoff only on stop. */
  interrupt: ((reason: 'wake' | 'stop') => void) | undefined;
  /** Resolved after the pass that is running (for drain). */
  passEnded: Array<() => void>;
  /** Passes ended so far, so drain() can tell whether one ended while it counted. */
  passCount: number;
};

type PassOutcome = 'idle' | 'more' | 'failed';

const purgeEveryMs = 10 * 60_000;

function relayOf<DB extends PlatformTables>(options: OutboxRelayOptions<DB>): Relay {
  return {
    db: platformView(options.db),
    publish: options.publish,
    logger: options.logger,
    clock: options.clock ?? systemClock,
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
    batchSize: options.batchSize ?? 100,
    initialBackoffMs: options.initialBackoffMs ?? 200,
    // A retry every few seconds costs a broken broker nothing, and once it is back the
    // backlog goes out within that time rather than after a long sleep.
    maxBackoffMs: options.maxBackoffMs ?? 5_000,
    leaseMs: options.leaseMs ?? 60_000,
    retentionMs: options.retentionMs ?? 3 * 24 * 3_600_000,
  };
}

/**
 * Publishes claimed rows in order until one fails or half the lease is gone: slow
 * publishes must not outlive the claim, or another replica would take these rows while
 * this one still sends them.
 */
async function publishInOrder(
  relay: Relay,
  rows: ClaimedRow[],
  claimSpan: Parameters<typeof publishInSpan>[1],
) {
  const claimedAt = relay.clock.now();
  const sent: string[] = [];
  for (const row of rows) {
    if (relay.clock.now() - claimedAt > relay.leaseMs / 2) return { sent, outOfLease: true };
    try {
      await publishInSpan(row.event, claimSpan, () => relay.publish(row.event));
      sent.push(row.event_id);
    } catch (error) {
      return { sent, failure: { eventId: row.event_id, attempts: row.attempts + 1, error } };
    }
  }
  return { sent };
}

/** One claim, publish and settle of a batch; whether more is waiting or a publish failed. */
async function relayPass(relay: Relay): Promise<PassOutcome> {
  const { rows, claimSpan } = await claimInSpan(() => claimBatch(relay.db, relay));
  const { sent, failure, outOfLease } = await publishInOrder(relay, rows, claimSpan);
  await markSent(relay.db, sent);
  const unsentIds = (from: number) => rows.slice(from).map((row) => row.event_id);
  if (outOfLease) {
    await releaseClaims(relay.db, unsentIds(sent.length));
    return 'more';
  }
  if (!failure) return rows.length === relay.batchSize ? 'more' : 'idle';
  await recordFailure(relay.db, failure);
  // Released, not kept until the lease ends, so the next pass resumes in order.
  await releaseClaims(relay.db, unsentIds(sent.length + 1));
  const { eventId, attempts, error } = failure;
  relay.logger.warn('outbox publish failed; will retry', { eventId, attempts, error });
  return 'failed';
}

/** Purges sent rows now and then; a purge that fails never holds up publishing. */
async function purgeIfDue(relay: Relay, state: RelayState): Promise<void> {
  if (relay.clock.now() - state.lastPurgeAt < purgeEveryMs) return;
  state.lastPurgeAt = relay.clock.now();
  try {
    const rows = await purgeSent(relay.db, relay.retentionMs);
    if (rows > 0) relay.logger.debug('outbox purged', { rows });
  } catch (error) {
    relay.logger.warn('outbox purge failed', { error });
  }
}

/** Capped exponential backoff; jitter keeps replicas that failed together out of lockstep. */
function backoffMs(
  policy: { initialBackoffMs: number; maxBackoffMs: number },
  failuresInARow: number,
): number {
  const backoff = Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * 2 ** (failuresInARow - 1),
  );
  return backoff * (0.8 + Math.random() * 0.4);
}

/** Sleeps on the relay's clock; `wakeable` lets wake() end it early (stop() always may). */
async function pause(relay: Relay, state: RelayState, ms: number, wakeable: boolean) {
  const interrupted = new AbortController();
  state.interrupt = (reason) => {
    if (reason === 'stop' || wakeable) interrupted.abort();
  };
  try {
    await relay.clock.sleep(ms, interrupted.signal);
  } finally {
    state.interrupt = undefined;
  }
}

/** Counts failures in a row (logging when a run of them ends) and tells drain() a pass ended. */
function recordOutcome(relay: Relay, state: RelayState, outcome: PassOutcome): void {
  if (outcome === 'failed') {
    state.failuresInARow++;
  } else if (state.failuresInARow > 0) {
    relay.logger.info('outbox relay recovered', { failuresInARow: state.failuresInARow });
    state.failuresInARow = 0;
  }
  state.passCount++;
  const ended = state.passEnded;
  state.passEnded = [];
  for (const resolve of ended) resolve();
}

/** Passes until stopped: at once while more is waiting, after a backoff on failure, else on wake or poll. */
async function runRelay(relay: Relay, state: RelayState): Promise<void> {
  while (!state.stopped) {
    state.wakeRequested = false;
    let outcome: PassOutcome;
    try {
      await purgeIfDue(relay, state);
      outcome = await relayPass(relay);
    } catch (error) {
      relay.logger.error('outbox relay pass failed; will retry', { error });
      outcome = 'failed';
    }
    recordOutcome(relay, state, outcome);
    if (state.stopped || outcome === 'more') continue;
    if (outcome === 'failed') {
      await pause(relay, state, backoffMs(relay, state.failuresInARow), false);
    } else if (!state.wakeRequested) {
      await pause(relay, state, relay.pollIntervalMs, true);
    }
  }
}

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
  const relay = relayOf(options);
  const state: RelayState = {
    stopped: false,
    wakeRequested: false,
    failuresInARow: 0,
    lastPurgeAt: Number.NEGATIVE_INFINITY,
    interrupt: undefined,
    passEnded: [],
    passCount: 0,
  };
  const running = runRelay(relay, state);
  const wake = () => {
    state.wakeRequested = true;
    state.interrupt?.('wake');
  };
  return {
    wake,
    async drain() {
      // One wake only: waking again after a pass that found every row in other hands
      // would spin, and on PGlite, whose queries never yield to I/O, starve those hands.
      wake();
      for (;;) {
        const passesBefore = state.passCount;
        if ((await countUnsent(relay.db)) === 0) return;
        if (state.stopped) throw new Error('the outbox relay stopped before the outbox drained');
        // A pass that ended while we counted may have sent the rows counted: count again
        // rather than wait for a pass that, with nothing to wake it, may be a poll away.
        if (state.passCount !== passesBefore) continue;
        await new Promise<void>((resolve) => state.passEnded.push(resolve));
      }
    },
    async stop() {
      state.stopped = true;
      state.interrupt?.('stop');
      await running;
      for (const resolve of state.passEnded) resolve();
    },
  };
}

import { type DatabaseBackend, databaseBackends, recordingLogger } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShopEvent } from '../events/cloud-event.ts';
import { manualClock } from '../testdata/manual-clock.ts';
import { enqueueEvent } from './outbox.ts';
import { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.ts';
import { type TestTables, testEvent, useWidgetsDatabase } from './testdata/backends.ts';

/**
 * Our own thin publish interface, recording what reached "the broker". A publish takes
 * `delayMs` of real time, or moves `clock` on by `clockMs` (a slow broker, without waiting).
 */
function broker(
  options: {
    failFirst?: number;
    delayMs?: number;
    clockMs?: number;
    clock?: ReturnType<typeof manualClock>;
  } = {},
) {
  const published: ShopEvent[] = [];
  const attempts: string[] = [];
  let failuresLeft = options.failFirst ?? 0;
  return {
    published,
    attempts,
    async publish(event: ShopEvent) {
      attempts.push(event.id);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.clockMs) options.clock?.advance(options.clockMs);
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('broker unavailable');
      }
      published.push(event);
    },
  };
}

/** Lets `count` pauses in a row run out on `clock`, one after another; how long each was. */
async function sitOut(clock: ReturnType<typeof manualClock>, count: number): Promise<number[]> {
  const pauses: number[] = [];
  for (let i = 0; i < count; i++) {
    const ms = await clock.sleeping();
    pauses.push(ms);
    clock.advance(ms);
  }
  return pauses;
}

/** A widgets database on `backend`, and relays over it that each test stops. */
function useOutbox(backend: DatabaseBackend) {
  const database = useWidgetsDatabase(backend);
  const relays: OutboxRelay[] = [];
  const start = (options: Omit<OutboxRelayOptions<TestTables>, 'db' | 'logger'>) => {
    const logger = recordingLogger();
    const relay = startOutboxRelay({ db: database().db, logger, ...options });
    relays.push(relay);
    return Object.assign(relay, { logger });
  };
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  });

  const commit = (...events: ShopEvent[]) =>
    database()
      .db.transaction()
      .execute(async (trx) => {
        for (const event of events) await enqueueEvent(trx, event);
      });
  const outboxRows = () =>
    database().db.selectFrom('outbox').selectAll().orderBy('position').execute();
  /** Lets one poll interval pass on `clock` and waits until the pass it starts is done. */
  const pollOnce = async (clock: ReturnType<typeof manualClock>) => {
    clock.advance(await clock.sleeping());
    await clock.sleeping();
  };
  return { database, start, commit, outboxRows, pollOnce };
}

describe.each(databaseBackends)('sending from the outbox on %s', (backend) => {
  const { database, start, commit, outboxRows, pollOnce } = useOutbox(backend);

  it('sends a committed event once, with its id, and nothing of a rolled-back one', async () => {
    const kept = testEvent('kept');
    const dropped = testEvent('dropped');
    await expect(
      database()
        .db.transaction()
        .execute(async (trx) => {
          await trx.insertInto('widgets').values({ id: 'w1', name: 'lost' }).execute();
          await enqueueEvent(trx, dropped);
          throw new Error('the change failed');
        }),
    ).rejects.toThrow('the change failed');
    await commit(kept);

    const target = broker();
    const clock = manualClock();
    const relay = start({ publish: target.publish, pollIntervalMs: 20, clock });
    await relay.drain();
    // A further pass finds nothing left to send.
    await pollOnce(clock);
    expect(target.published).toEqual([kept]);
    const rows = await outboxRows();
    expect(rows.map((row) => row.event_id)).toEqual([kept.id]);
    expect(rows[0]?.sent_at).toBeInstanceOf(Date);
    expect(rows[0]?.event).toEqual(kept);
  });

  it('wakes up at once after a commit instead of waiting for the next poll', async () => {
    const target = broker();
    const clock = manualClock();
    const relay = start({ publish: target.publish, pollIntervalMs: 60_000, clock });
    const startedAt = clock.now();
    // The first pass found nothing and waits for the next poll.
    expect(await clock.sleeping()).toBe(60_000);
    const event = testEvent();
    await commit(event);
    relay.wake();
    await clock.sleeping();
    expect(target.published).toEqual([event]);
    expect(clock.now()).toBe(startedAt);
  });

  it('keeps retrying a failing publish, same id, backing off, then sends all in order', async () => {
    const events = Array.from({ length: 5 }, (_, i) => testEvent(`ordered${i}`));
    for (const event of events) await commit(event);
    const target = broker({ failFirst: 4 });
    const clock = manualClock();
    const relay = start({
      publish: target.publish,
      pollIntervalMs: 20,
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      clock,
    });
    const pauses = await sitOut(clock, 4);
    await relay.drain();

    // Doubling from 10 ms, capped at 40, each within the ±20% jitter.
    [10, 20, 40, 40].forEach((backoff, i) => {
      expect(pauses[i]).toBeGreaterThanOrEqual(backoff * 0.8);
      expect(pauses[i]).toBeLessThanOrEqual(backoff * 1.2);
    });
    const ids = events.map((event) => event.id);
    expect(target.published.map((event) => event.id)).toEqual(ids);
    const [first, ...rest] = ids;
    expect(target.attempts).toEqual([first, first, first, first, first, ...rest]);
    const rows = await outboxRows();
    expect(rows.map((row) => [row.attempts, row.last_error])).toEqual([
      [4, 'broker unavailable'],
      ...rest.map(() => [0, null]),
    ]);
    const levels = relay.logger.lines.map((line) => [line.level, line.msg]);
    expect(levels.filter(([level]) => level === 'warn')).toHaveLength(4);
    expect(levels).toContainEqual(['info', 'outbox relay recovered']);
  });
});

describe.each(databaseBackends)('leases, retention and stopping in the outbox on %s', (backend) => {
  const ctx = useOutbox(backend);

  leaseCases(ctx);
  retentionAndStopCases(ctx);
});

type Ctx = ReturnType<typeof useOutbox>;

function leaseCases({ database, start, commit, pollOnce }: Ctx) {
  it('shares the rows between relays racing over them, sending each once', async () => {
    const events = Array.from({ length: 120 }, (_, i) => testEvent(`raced${i}`));
    await commit(...events);
    const targets = [broker({ delayMs: 1 }), broker({ delayMs: 1 })];
    const racing = targets.map((target) =>
      start({ publish: target.publish, pollIntervalMs: 10, batchSize: 10 }),
    );
    await Promise.all(racing.map((relay) => relay.drain()));

    const sent = targets.flatMap((target) => target.published.map((event) => event.id));
    expect(sent).toHaveLength(events.length);
    expect(new Set(sent)).toEqual(new Set(events.map((event) => event.id)));
    for (const target of targets) expect(target.published.length).toBeGreaterThan(0);
  });

  it('releases what it cannot send within half its lease, and sends it next, in order', async () => {
    const events = Array.from({ length: 12 }, (_, i) => testEvent(`slow${i}`));
    await commit(...events);
    // Each publish takes 120 ms against a 1 s lease: a batch of 12 would outlive it. Had
    // the relay kept the rest of the batch, it would find nothing to claim and wait.
    const clock = manualClock();
    const target = broker({ clock, clockMs: 120 });
    start({ publish: target.publish, pollIntervalMs: 20, batchSize: 12, leaseMs: 1_000, clock });
    await clock.sleeping();
    const ids = events.map((event) => event.id);
    expect(target.attempts).toEqual(ids);
    expect(target.published.map((event) => event.id)).toEqual(ids);
  });

  it('leaves a batch another relay holds alone until its lease runs out', async () => {
    const held = testEvent('held');
    await commit(held);
    await database()
      .db.updateTable('outbox')
      .set({ claimed_until: sql<Date>`now() + interval '1 hour'` })
      .execute();
    const target = broker();
    const clock = manualClock();
    const relay = start({ publish: target.publish, pollIntervalMs: 20, clock });
    await pollOnce(clock);
    expect(target.published).toEqual([]);

    // The holder died: its lease ends and this relay takes the row over.
    await database()
      .db.updateTable('outbox')
      .set({ claimed_until: sql<Date>`now() - interval '1 second'` })
      .execute();
    await relay.drain();
    expect(target.published).toEqual([held]);
  });
}

function retentionAndStopCases({ database, start, commit, outboxRows }: Ctx) {
  it('purges sent rows past their retention, never unsent ones', async () => {
    const sent = testEvent('sent');
    const unsent = testEvent('unsent');
    await commit(sent, unsent);
    await database()
      .db.updateTable('outbox')
      .set({ sent_at: sql<Date>`now() - interval '2 hours'` })
      .where('event_id', '=', sent.id)
      .execute();
    const target = broker({ failFirst: 1_000 });
    const clock = manualClock();
    start({ publish: target.publish, retentionMs: 3_600_000, clock });
    // The first pass purges, then fails to publish and backs off.
    await clock.sleeping();
    const rows = await outboxRows();
    expect(rows.map((row) => [row.event_id, row.sent_at, row.attempts])).toEqual([
      [unsent.id, null, 1],
    ]);
  });

  it('stops between passes and refuses to drain what it will no longer send', async () => {
    const relay = start({ publish: broker().publish, pollIntervalMs: 20 });
    await relay.stop();
    await commit(testEvent());
    await expect(relay.drain()).rejects.toThrow(/stopped/);
  });
}

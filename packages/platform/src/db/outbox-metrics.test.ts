import { databaseBackends, recordingLogger, seriesValue } from '@shop/devkit/testing';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { enqueueEvent, markSent } from './outbox.ts';
import { registerOutboxMetrics } from './outbox-metrics.ts';
import { platformView } from './platform-tables.ts';
import { testEvent, useWidgetsDatabase } from './testdata/backends.ts';

describe.each(databaseBackends)('the outbox gauges on %s', (backend) => {
  const database = useWidgetsDatabase(backend);
  const gauges = (options: { queryTimeoutMs?: number } = {}) => {
    const metricsRegistry = new Registry();
    const logger = recordingLogger();
    registerOutboxMetrics({ registry: metricsRegistry, db: database().db, logger, ...options });
    const read = async () => ({
      backlog: await seriesValue({ metricsRegistry }, 'outbox_backlog_events'),
      oldestAge: await seriesValue({ metricsRegistry }, 'outbox_oldest_event_age_seconds'),
    });
    return { read, logger };
  };
  const commit = (...events: ReturnType<typeof testEvent>[]) =>
    database()
      .db.transaction()
      .execute(async (trx) => {
        for (const event of events) await enqueueEvent(trx, event);
      });

  it('reads the unsent rows and the age of the oldest, and 0 for both once all are sent', async () => {
    const { read } = gauges();
    expect(await read()).toEqual({ backlog: 0, oldestAge: 0 });
    const [old, recent, sent] = [testEvent(), testEvent(), testEvent()];
    await commit(old, recent, sent);
    const db = platformView(database().db);
    await sql`update outbox set created_at = now() - interval '120 seconds' where event_id = ${old.id}`.execute(
      db,
    );
    await markSent(db, [sent.id]);
    const { backlog, oldestAge } = await read();
    expect(backlog).toBe(2);
    expect(oldestAge).toBeGreaterThanOrEqual(120);
    expect(oldestAge).toBeLessThan(150);
    await markSent(db, [old.id, recent.id]);
    expect(await read()).toEqual({ backlog: 0, oldestAge: 0 });
  });

  it('answers a scrape with the last values when the database is slower than the timeout', async () => {
    const { read, logger } = gauges({ queryTimeoutMs: 200 });
    await commit(testEvent());
    expect((await read()).backlog).toBe(1);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { db } = database();
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // A transaction holding the outbox exclusively: the gauges' query waits behind it.
    const holder = db.transaction().execute(async (trx) => {
      await sql`lock table outbox in access exclusive mode`.execute(trx);
      locked();
      await held;
    });
    await lockTaken;
    expect(await read()).toMatchObject({ backlog: 1 });
    expect(logger.lines.map((line) => line.msg)).toContain(
      'outbox backlog not measured; keeping the last values',
    );
    release();
    await holder;
  });
});

import { databaseBackends } from '@shop/devkit/testing';
import type { Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import { handleEventOnce } from './processed-events.ts';
import { type TestTables, useWidgetsDatabase } from './testdata/backends.ts';

describe.each(databaseBackends)('processed events on %s', (backend) => {
  const database = useWidgetsDatabase(backend);
  const widgetIds = async () =>
    (await database().db.selectFrom('widgets').select('id').orderBy('id').execute()).map(
      (row) => row.id,
    );

  it('applies an event once and answers duplicate on redelivery', async () => {
    const { db } = database();
    const receipt = { consumer: 'widgets.create', eventId: 'evt-1' };
    let runs = 0;
    const effect = async (trx: Transaction<TestTables>) => {
      runs++;
      await trx
        .insertInto('widgets')
        .values({ id: `w${runs}`, name: 'from evt-1' })
        .execute();
    };
    expect(await handleEventOnce(db, receipt, effect)).toBe('applied');
    expect(await handleEventOnce(db, receipt, effect)).toBe('duplicate');
    expect(runs).toBe(1);
    expect(await widgetIds()).toEqual(['w1']);
  });

  it('applies concurrent duplicates once', async () => {
    const { db } = database();
    const receipt = { consumer: 'widgets.create', eventId: 'evt-concurrent' };
    let runs = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        handleEventOnce(db, receipt, async (trx) => {
          runs++;
          // Linger inside the transaction so the duplicates really overlap it.
          await new Promise((resolve) => setTimeout(resolve, 20));
          await trx
            .insertInto('widgets')
            .values({ id: `copy${i}`, name: 'dup' })
            .execute();
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(11);
    expect(runs).toBe(1);
    expect(await widgetIds()).toHaveLength(1);
  });

  it('keeps one receipt per consumer, so each consumer applies the event', async () => {
    const { db } = database();
    const apply = (consumer: string) =>
      handleEventOnce(db, { consumer, eventId: 'evt-shared' }, async (trx) => {
        await trx.insertInto('widgets').values({ id: consumer, name: 'shared' }).execute();
      });
    expect(await apply('a')).toBe('applied');
    expect(await apply('b')).toBe('applied');
    expect(await widgetIds()).toEqual(['a', 'b']);
  });

  it('keeps no receipt when the effect fails, so a redelivery applies it', async () => {
    const { db } = database();
    const receipt = { consumer: 'widgets.create', eventId: 'evt-flaky' };
    await expect(
      handleEventOnce(db, receipt, async (trx) => {
        await trx.insertInto('widgets').values({ id: 'half', name: 'half' }).execute();
        throw new Error('downstream failed');
      }),
    ).rejects.toThrow('downstream failed');
    expect(await widgetIds()).toEqual([]);

    const retried = await handleEventOnce(db, receipt, async (trx) => {
      await trx.insertInto('widgets').values({ id: 'whole', name: 'whole' }).execute();
    });
    expect(retried).toBe('applied');
    expect(await widgetIds()).toEqual(['whole']);
  });
});

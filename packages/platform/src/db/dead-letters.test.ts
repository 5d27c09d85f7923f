import { databaseBackends } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { sqlDeadLetterStore } from './dead-letters.ts';
import { testEvent, useWidgetsDatabase } from './testdata/backends.ts';

describe.each(databaseBackends)('dead letters on %s', (backend) => {
  const database = useWidgetsDatabase(backend);
  const letterOf = (event: { id: string; type: string }, receivedAt = new Date()) => ({
    id: event.id,
    type: event.type,
    receivedAt: receivedAt.toISOString(),
    event,
  });

  it('keeps an event as received, lists oldest first, and forgets a removed one', async () => {
    const store = sqlDeadLetterStore(database().db);
    const first = testEvent('first');
    const second = testEvent('second');
    await store.add(letterOf(first, new Date('2026-01-01T00:00:00Z')));
    await store.add(letterOf(second, new Date('2026-01-02T00:00:00Z')));
    expect(await store.get(first.id)).toEqual(letterOf(first, new Date('2026-01-01T00:00:00Z')));
    expect((await store.list()).map((letter) => letter.id)).toEqual([first.id, second.id]);
    await store.remove(first.id);
    expect(await store.get(first.id)).toBeUndefined();
    expect((await store.list()).map((letter) => letter.id)).toEqual([second.id]);
  });

  it('keeps one copy of an event dead-lettered twice, the latest', async () => {
    const store = sqlDeadLetterStore(database().db);
    const event = testEvent('twice');
    await store.add(letterOf(event, new Date('2026-01-01T00:00:00Z')));
    await store.add(letterOf(event, new Date('2026-01-03T00:00:00Z')));
    expect(await store.list()).toEqual([letterOf(event, new Date('2026-01-03T00:00:00Z'))]);
  });

  it('keeps what is not even a valid event, for an operator to read', async () => {
    const store = sqlDeadLetterStore(database().db);
    await store.add({
      id: 'junk',
      type: 'unknown',
      receivedAt: new Date().toISOString(),
      event: 'not json at all',
    });
    expect((await store.get('junk'))?.event).toBe('not json at all');
  });
});

import { describe, expect, it } from 'vitest';
import { stateDeadLetterStore } from './dead-letters.ts';
import { memoryStateStore } from './test-support.ts';

const letter = (id: string, type = 'order.cancelled') => ({
  id,
  type,
  receivedAt: '2026-12-07T10:00:00.000Z',
  event: { id, type, data: { $odd: 'field.names' } },
});

describe('dead letters in the state store', () => {
  it('keeps, lists, finds and removes letters; a letter dead-lettered again replaces its copy', async () => {
    const store = memoryStateStore();
    const letters = stateDeadLetterStore({ store, storeName: 'cartstore', timeoutMs: 1_000 });
    expect(await letters.list()).toEqual([]);
    await letters.add(letter('a'));
    await letters.add(letter('b'));
    await letters.add(letter('a', 'user.deleted'));
    expect((await letters.list()).map((l) => [l.id, l.type])).toEqual([
      ['b', 'order.cancelled'],
      ['a', 'user.deleted'],
    ]);
    expect(await letters.get('b')).toEqual(letter('b'));
    await letters.remove('b');
    await letters.remove('never');
    expect(await letters.get('b')).toBeUndefined();
    expect(store.entries.get('dead-letters')?.ttlSeconds).toBeUndefined();
  });

  it('loses none when two arrive at once', async () => {
    const store = memoryStateStore();
    const letters = stateDeadLetterStore({ store, storeName: 'cartstore', timeoutMs: 1_000 });
    store.lineUpReads(5);
    await Promise.all(['1', '2', '3', '4', '5'].map((id) => letters.add(letter(id))));
    expect((await letters.list()).map((l) => l.id).sort()).toEqual(['1', '2', '3', '4', '5']);
  });
});

import type { DeadLetterStore } from '@shop/platform';
import { z } from 'zod';
import { readEntry, type StateSettings, updateEntry } from './state/entries.ts';

type DeadLetter = Parameters<DeadLetterStore['add']>[0];

const key = 'dead-letters';
// Dead letters are rare and wait for an operator; past this many the oldest make room.
const maxLetters = 500;

const letters = z.array(
  z.object({ id: z.string(), type: z.string(), receivedAt: z.string(), event: z.unknown() }),
);

const parse = (stored: unknown): DeadLetter[] => {
  const parsed = letters.safeParse(stored ?? []);
  return parsed.success ? (parsed.data as DeadLetter[]) : [];
};

/**
 * Dead letters in the state store, with no TTL, so they survive a restart and every
 * replica sees the same list: one key holding them all, changed under its ETag (the store
 * offers no listing of keys on every profile). An event dead-lettered again replaces its
 * earlier copy.
 */
export function stateDeadLetterStore(settings: Omit<StateSettings, 'ttlSeconds'>): DeadLetterStore {
  const update = (change: (all: DeadLetter[]) => DeadLetter[] | undefined) =>
    updateEntry(settings, key, parse, change);
  return {
    async add(letter) {
      await update((all) => [...all.filter((l) => l.id !== letter.id), letter].slice(-maxLetters));
    },
    list: async () => (await readEntry(settings, key, parse)).value,
    get: async (id) => (await readEntry(settings, key, parse)).value.find((l) => l.id === id),
    async remove(id) {
      await update((all) =>
        all.some((l) => l.id === id) ? all.filter((l) => l.id !== id) : undefined,
      );
    },
  };
}

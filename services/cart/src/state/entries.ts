import { AppError, type Sidecar } from '@shop/platform';

/** The part of the sidecar this service keeps its data through. */
export type StateStore = Pick<Sidecar, 'getState' | 'saveState' | 'deleteState'>;

export type StateSettings = {
  store: StateStore;
  storeName: string;
  timeoutMs: number;
  /** Dapr's ttlInSeconds on every write, so each write renews it; none: kept until deleted. */
  ttlSeconds?: number;
};

// Each attempt loses only to a write that succeeded in between; this many in a row means
// one key is written far faster than anyone could use it.
const maxAttempts = 10;

const unavailable = (error: unknown) =>
  error instanceof AppError
    ? error
    : new AppError('upstream_unavailable', 'the cart store could not be reached; retry', {
        headers: { 'retry-after': '1' },
      });

type Read<T> = { value: T; etag: string | undefined };

/** Reads `key` as `parse` makes it (absent or unreadable: `parse(undefined)`). */
export async function readEntry<T>(
  settings: StateSettings,
  key: string,
  parse: (stored: unknown) => T,
): Promise<Read<T>> {
  const { store, storeName, timeoutMs } = settings;
  const found = await store.getState(storeName, key, { timeoutMs }).catch((error) => {
    throw unavailable(error);
  });
  return { value: parse(found?.value), etag: found?.etag };
}

/** One conditional write: only over `etag`, or, without one, only where the key is absent. */
async function writeOver<T>(settings: StateSettings, key: string, value: T, etag?: string) {
  const { store, storeName, timeoutMs, ttlSeconds } = settings;
  const options = { etag, concurrency: 'first-write', ttlSeconds, timeoutMs } as const;
  try {
    return await store.saveState(storeName, key, value, options);
  } catch (error) {
    // A first-write create that finds the key taken is Dapr's 500, not a 409: someone
    // created it first. Read again; a store that is down fails that read.
    if (etag === undefined) return 'conflict';
    throw unavailable(error);
  }
}

/**
 * Read-modify-write of one key under optimistic concurrency: `change` sees the current
 * value and answers the next (undefined: nothing to write); the write names the ETag read,
 * and when another write got in between, it all runs again on what that one left. So two
 * writers at once never lose each other's change. `change` may throw (an AppError) to refuse.
 */
export async function updateEntry<T>(
  settings: StateSettings,
  key: string,
  parse: (stored: unknown) => T,
  change: (current: T) => T | undefined,
): Promise<T> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const { value, etag } = await readEntry(settings, key, parse);
    const next = change(value);
    if (next === undefined) return value;
    if ((await writeOver(settings, key, next, etag)) === 'saved') return next;
    // Writers that lost spread out a little, so they do not all collide again.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
  }
  throw new AppError('conflict', 'the cart changed too often at once; retry', {
    headers: { 'retry-after': '1' },
  });
}

/** Deletes `key` whatever it holds; deleting an absent key succeeds. */
export async function deleteEntry(settings: StateSettings, key: string): Promise<void> {
  const { store, storeName, timeoutMs } = settings;
  await store.deleteState(storeName, key, { timeoutMs }).catch((error) => {
    throw unavailable(error);
  });
}

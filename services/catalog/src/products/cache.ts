import type { Logger, Sidecar } from '@shop/platform';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { type ProductView, product as productSchema } from './schemas.ts';

/** A product as read, with the row version it was read at. */
export type VersionedProduct = { product: ProductView; version: number };

export type StateStore = Pick<Sidecar, 'getState' | 'saveState'>;

export type ProductCache = {
  /** The product from the cache, or from `load` (then cached unless a change raced it). */
  read(
    id: string,
    load: () => Promise<VersionedProduct | undefined>,
  ): Promise<VersionedProduct | undefined>;
  /** Call after the commit that made `version`; no read that started earlier can cache what it saw. */
  invalidate(id: string, version: number): Promise<void>;
};

// Either a product at a version, or a marker that a change committed `version`, left in
// place of the entry instead of deleting it (why: see createProductCache).
const cacheEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('product'), version: z.number().int(), product: productSchema }),
  z.object({ kind: z.literal('invalidated'), version: z.number().int() }),
]);
type CacheEntry = z.infer<typeof cacheEntry>;

// Concurrent readers can each refuse one invalidation attempt; more than a few in a row
// means the store is misbehaving, and the entry is then left to its TTL (and logged).
const invalidationAttempts = 5;

export type ProductCacheOptions = {
  store: StateStore;
  storeName: string;
  ttlSeconds: number;
  timeoutMs: number;
  logger: Logger;
  registry: Registry;
  /** Milliseconds since the epoch; the wall clock unless a test moves it. */
  now?: () => number;
};

type Cache = Required<Omit<ProductCacheOptions, 'registry'>> & {
  lookups: Counter<'outcome'>;
  invalidationFailures: Counter;
};

const keyOf = (id: string) => `product:${id}`;

function write(cache: Cache, key: string, entry: CacheEntry, etag: string | undefined) {
  return cache.store.saveState(cache.storeName, key, entry, {
    etag,
    concurrency: 'first-write',
    ttlSeconds: cache.ttlSeconds,
    timeoutMs: cache.timeoutMs,
  });
}

async function lookUp(cache: Cache, key: string) {
  const found = await cache.store.getState(cache.storeName, key, { timeoutMs: cache.timeoutMs });
  if (!found) return { entry: undefined, etag: undefined };
  const parsed = cacheEntry.safeParse(found.value);
  // Something unreadable is a miss, overwritten under its ETag like any other.
  return { entry: parsed.success ? parsed.data : undefined, etag: found.etag };
}

async function read(
  cache: Cache,
  id: string,
  load: () => Promise<VersionedProduct | undefined>,
): Promise<VersionedProduct | undefined> {
  const key = keyOf(id);
  let seen: Awaited<ReturnType<typeof lookUp>>;
  try {
    seen = await lookUp(cache, key);
  } catch (error) {
    cache.lookups.inc({ outcome: 'error' });
    cache.logger.warn('product cache unavailable; reading the database', { productId: id, error });
    return load();
  }
  if (seen.entry?.kind === 'product') {
    cache.lookups.inc({ outcome: 'hit' });
    return { product: seen.entry.product, version: seen.entry.version };
  }
  cache.lookups.inc({ outcome: 'miss' });
  const startedAt = cache.now();
  const loaded = await load();
  // Absence is not cached: a deleted product leaves its marker, and an unknown id
  // should not fill the store.
  if (!loaded) return undefined;
  const tooSlow = cache.now() - startedAt > (cache.ttlSeconds * 1_000) / 2;
  const olderThanMarker = seen.entry?.kind === 'invalidated' && loaded.version < seen.entry.version;
  if (tooSlow || olderThanMarker) return loaded;
  const entry: CacheEntry = { kind: 'product', version: loaded.version, product: loaded.product };
  // A refusal means a change (or another reader) got there first; either way the
  // entry there is not older than ours, so there is nothing to do.
  await write(cache, key, entry, seen.etag).catch(() => undefined);
  return loaded;
}

async function invalidate(cache: Cache, id: string, version: number): Promise<void> {
  const key = keyOf(id);
  try {
    for (let attempt = 1; attempt <= invalidationAttempts; attempt++) {
      const seen = await lookUp(cache, key);
      const marker: CacheEntry = {
        kind: 'invalidated',
        version: Math.max(version, seen.entry?.version ?? 0),
      };
      // A first-write create that finds the key taken throws (Dapr's 500), like a
      // refused ETag answers 'conflict': look again and retry. An unreachable store
      // throws from lookUp above, which ends the attempts.
      const outcome = await write(cache, key, marker, seen.etag).catch(() => 'conflict' as const);
      if (outcome === 'saved') return;
    }
    throw new Error(`still contended after ${invalidationAttempts} attempts`);
  } catch (error) {
    cache.invalidationFailures.inc();
    cache.logger.warn('product cache invalidation failed; the entry expires with its TTL', {
      productId: id,
      version,
      error,
    });
  }
}

/**
 * Single-product reads through a Dapr state store, never stale after a change returned.
 *
 * The race: a reader misses, reads the database before a change commits, and writes that
 * old value into the cache after the writer invalidated it. So every write here is
 * conditional, with Dapr's first-write concurrency: a reader writes only over the exact
 * entry it saw missing (its ETag), or, when there was none, only if there still is none.
 * The writer, after its commit, replaces whatever is there with an `invalidated` marker
 * (compare-and-set on the ETag, retried), rather than deleting it: a deletion would let
 * a reader that looked earlier create the key again. Any reader that looked before the
 * marker holds an old ETag (or none), so its write is refused; any that looks after it
 * reads the database after the commit. The marker lives one TTL; a reader whose database
 * read took more than half of that does not cache at all, so no marker expires under it.
 *
 * The store is an optimisation only: when it fails or is slower than `timeoutMs`, reads
 * go to the database. An invalidation that fails is logged and counted; its entry expires
 * after `ttlSeconds` at most.
 */
export function createProductCache(options: ProductCacheOptions): ProductCache {
  const { registry, ...settings } = options;
  const cache: Cache = {
    ...settings,
    now: options.now ?? Date.now,
    lookups: new Counter({
      name: 'catalog_product_cache_lookups_total',
      help: 'Single-product reads by cache outcome: hit, miss, or error (store unavailable; read from the database)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    invalidationFailures: new Counter({
      name: 'catalog_product_cache_invalidation_failures_total',
      help: 'Changes whose cached product could not be invalidated (it expires with its TTL)',
      registers: [registry],
    }),
  };
  return {
    read: (id, load) => read(cache, id, load),
    invalidate: (id, version) => invalidate(cache, id, version),
  };
}

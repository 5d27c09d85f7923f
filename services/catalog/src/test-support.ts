import {
  createTestTokens,
  type DatabaseBackend,
  recordingLogger,
  useServiceApp,
} from '@shop/devkit/testing';
import {
  createMemoryDeadLetterStore,
  type SaveStateOptions,
  type StateEntry,
} from '@shop/platform';
import { beforeAll } from 'vitest';
import { createApp } from './app.ts';
import { migrations, pgliteExtensions } from './database.ts';
import type { StateStore } from './products/cache.ts';
import type { CatalogTables } from './tables.ts';

/**
 * The state store as Dapr's Redis component behaves, in memory: ETags are versions that
 * grow with every write; a write naming an ETag succeeds only on that version (or on an
 * absent key); a write without one fails where the entry was written first-write, else
 * overwrites. `outage` makes every call fail as an unreachable sidecar would. TTLs are
 * accepted and not enforced. (packages/platform/src/dapr/sidecar-state.int.test.ts checks
 * these rules against a real daprd and Redis.)
 */
export function memoryStateStore() {
  const entries = new Map<string, { value: unknown; version: number; firstWrite: boolean }>();
  const state = { outage: false };
  const reachable = () => {
    if (state.outage) throw new Error('fetch failed: connect ECONNREFUSED');
  };
  const store: StateStore & { entries: typeof entries; state: typeof state } = {
    entries,
    state,
    async getState(_store, key): Promise<StateEntry | undefined> {
      reachable();
      const entry = entries.get(key);
      return entry && { value: structuredClone(entry.value), etag: String(entry.version) };
    },
    async saveState(_store, key, value, options: SaveStateOptions = {}) {
      reachable();
      const entry = entries.get(key);
      const etag = options.concurrency === 'last-write' ? undefined : options.etag;
      if (entry && etag !== undefined && etag !== String(entry.version)) return 'conflict';
      if (entry && etag === undefined && entry.firstWrite) {
        throw new Error('state save failed: 500 failed to set key');
      }
      entries.set(key, {
        value: structuredClone(value),
        version: (entry?.version ?? 0) + 1,
        firstWrite: (entry?.firstWrite ?? false) || options.concurrency === 'first-write',
      });
      return 'saved';
    },
  };
  return store;
}

export const appConfig = {
  SHOP_CURRENCY: 'USD',
  STATE_STORE_NAME: 'statestore',
  PRODUCT_CACHE_TTL_SECONDS: 300,
  STATE_STORE_TIMEOUT_MS: 200,
};

/**
 * The catalog app over a real database on `backend`, real token checks, and the state
 * store above; only the broker (a recorded list) and the store are not real.
 */
export function useCatalogApp(backend: DatabaseBackend) {
  const stateStore = memoryStateStore();
  const logger = recordingLogger();
  const deadLetters = createMemoryDeadLetterStore();
  let tokens: Awaited<ReturnType<typeof createTestTokens>>;
  const harness = useServiceApp<CatalogTables, ReturnType<typeof createApp>>({
    backend,
    migrations,
    pgliteExtensions,
    async createApp({ db, outbox, appApiToken }) {
      tokens = await createTestTokens();
      return createApp({
        config: { APP_API_TOKEN: appApiToken, ...appConfig },
        logger,
        db,
        outbox,
        stateStore,
        verifier: tokens.verifier,
        deadLetters,
        readiness: { sidecar: async () => {}, database: async () => {} },
      });
    },
  });
  let adminToken = '';
  let customerToken = '';
  beforeAll(async () => {
    adminToken = await tokens.issue('admin-1', 'admin');
    customerToken = await tokens.issue('customer-1');
  });
  return {
    ...harness,
    stateStore,
    logger,
    deadLetters,
    admin: () => adminToken,
    customer: () => customerToken,
    /** A token for another customer. */
    tokenFor: (userId: string) => tokens.issue(userId),
  };
}

let counter = 0;

/** A valid product body with a SKU nobody else in this test file uses. */
export function productBody(fields: Record<string, unknown> = {}) {
  counter++;
  return {
    sku: `SKU-${counter}-${Date.now()}`,
    name: `Product ${counter}`,
    category: 'misc',
    price: 1_000,
    currency: 'USD',
    ...fields,
  };
}

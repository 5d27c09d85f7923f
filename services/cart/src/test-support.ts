import { randomUUID } from 'node:crypto';
import {
  createTestTokens,
  fakeCatalog,
  openApiResponseChecker,
  recordingLogger,
  type ServiceCall,
  serviceCaller,
} from '@shop/devkit/testing';
import {
  createMemoryDeadLetterStore,
  openApiDocumentPath,
  type SaveStateOptions,
  type StateEntry,
} from '@shop/platform';
import { beforeAll } from 'vitest';
import { createApp } from './app.ts';
import type { OrdersAnswer, OrdersClient, PlaceOrder } from './cart/orders.ts';
import type { CartStore } from './cart/repository.ts';
import type { StateStore } from './state/entries.ts';

/**
 * The state store as Dapr's Redis component behaves, in memory: ETags are versions that
 * grow with every write; a write naming an ETag succeeds only on that version; a
 * first-write without one fails (Dapr's 500) where the key exists. `outage` makes every
 * call fail as an unreachable sidecar would. TTLs are recorded, not enforced.
 * (src/state/entries.int.test.ts holds the cart to these rules on a real daprd.)
 */
export function memoryStateStore() {
  const entries = new Map<string, { value: unknown; version: number; ttlSeconds?: number }>();
  const state = { outage: false };
  const reachable = () => {
    if (state.outage) throw new Error('fetch failed: connect ECONNREFUSED');
  };
  const lineUp = readLineUp();
  const store: StateStore & {
    entries: typeof entries;
    state: typeof state;
    lineUpReads: typeof lineUp.arrange;
  } = {
    entries,
    state,
    lineUpReads: lineUp.arrange,
    async getState(_store, key): Promise<StateEntry | undefined> {
      reachable();
      await lineUp.arrive();
      const entry = entries.get(key);
      return entry && { value: structuredClone(entry.value), etag: String(entry.version) };
    },
    async saveState(_store, key, value, options: SaveStateOptions = {}) {
      reachable();
      const entry = entries.get(key);
      if (entry && options.etag !== undefined && options.etag !== String(entry.version)) {
        return 'conflict';
      }
      if (!entry && options.etag !== undefined) return 'conflict';
      if (entry && options.etag === undefined && options.concurrency === 'first-write') {
        throw new Error('state save failed: 500 failed to set key');
      }
      const version = (entry?.version ?? 0) + 1;
      const ttl = options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds };
      entries.set(key, { value: structuredClone(value), version, ...ttl });
      return 'saved';
    },
    async deleteState(_store, key) {
      reachable();
      entries.delete(key);
      return 'deleted';
    },
  };
  return store;
}

/**
 * Makes reads wait for each other: `arrange(size, rounds)` holds each of the next `rounds`
 * groups of `size` reads until the whole group has arrived, so that many writers all read
 * the same entry before any of them writes.
 */
function readLineUp() {
  const groups: Array<{ size: number; waiting: Array<() => void> }> = [];
  return {
    arrange(size: number, rounds = 1) {
      for (let i = 0; i < rounds; i++) groups.push({ size, waiting: [] });
    },
    async arrive() {
      const group = groups[0];
      if (!group) return;
      await new Promise<void>((resolve) => {
        group.waiting.push(resolve);
        if (group.waiting.length < group.size) return;
        groups.shift();
        for (const release of group.waiting) release();
      });
    },
  };
}

export { fakeCatalog };

const problem = (status: number, detail: string): OrdersAnswer => ({
  status,
  body: JSON.stringify({ type: 'urn:shop:problem:x', title: 'x', status, detail }),
  headers: { 'content-type': 'application/problem+json' },
});

/**
 * Orders' placement in process, keeping its key rules: the first request with a key places
 * an order (202, Location); a repeat with the same body replays that answer; with another
 * body it is a 422. `answerNext` makes the next call answer a given problem instead.
 */
export function fakeOrders() {
  const keys = new Map<string, { body: string; answer: OrdersAnswer }>();
  const placed: PlaceOrder[] = [];
  let next: OrdersAnswer | undefined;
  const client: OrdersClient & {
    placed: PlaceOrder[];
    answerNext(status: number): void;
  } = {
    placed,
    answerNext(status) {
      next = problem(status, 'as the test asked');
    },
    async place(order) {
      placed.push(order);
      if (next) {
        const answer = next;
        next = undefined;
        return answer;
      }
      const scope = `${order.authorization} ${order.idempotencyKey}`;
      const body = JSON.stringify({ items: order.items, paymentMethod: order.paymentMethod });
      const known = keys.get(scope);
      if (known && known.body !== body) return problem(422, 'key used with another body');
      if (known) {
        const headers = { ...known.answer.headers, 'idempotent-replayed': 'true' };
        return { ...known.answer, headers };
      }
      const id = randomUUID();
      const answer = {
        status: 202,
        body: JSON.stringify({ id, status: 'pending', items: order.items }),
        headers: { 'content-type': 'application/json', location: `/api/v1/orders/${id}` },
      };
      keys.set(scope, { body, answer });
      return answer;
    },
  };
  return client;
}

const appApiToken = 'cart-app-token-0123456789';

/**
 * The cart app with real token checks over the state store above, the catalog and orders
 * in process; its clock can be moved. Every answer `call` receives is checked against the
 * app's OpenAPI document.
 */
export function cartAppWith(stateStore: StateStore = memoryStateStore()) {
  const catalog = fakeCatalog();
  const orders = fakeOrders();
  const clock = { now: new Date('2026-12-07T10:00:00Z') };
  const logger = recordingLogger();
  const store: CartStore = {
    store: stateStore,
    storeName: 'cartstore',
    timeoutMs: 1_000,
    ttlSeconds: 30 * 86_400,
    logger,
    now: () => clock.now,
  };
  const tokens = createTestTokens();
  const app = tokens.then(({ verifier }) =>
    createApp({
      config: { APP_API_TOKEN: appApiToken, SHOP_CURRENCY: 'USD' },
      logger,
      store,
      catalog,
      orders,
      verifier,
      deadLetters: createMemoryDeadLetterStore(),
      readiness: { sidecar: async () => {} },
    }),
  );
  return { app, tokens, catalog, orders, clock, store, logger };
}

/**
 * Gives the enclosing describe one cart app (see cartAppWith), opened before its tests,
 * with `call` as the gateway would, `deliver` as a subscription would, and tokens.
 */
export function useCartApp(): ReturnType<typeof useCartAppOn<MemoryStateStore>>;
export function useCartApp<S extends StateStore>(stateStore: S): ReturnType<typeof useCartAppOn<S>>;
export function useCartApp(stateStore: StateStore = memoryStateStore()) {
  return useCartAppOn(stateStore);
}

type MemoryStateStore = ReturnType<typeof memoryStateStore>;

function useCartAppOn<S extends StateStore>(stateStore: S) {
  const parts = cartAppWith(stateStore);
  let app: Awaited<typeof parts.app> | undefined;
  let tokens: Awaited<typeof parts.tokens> | undefined;
  beforeAll(async () => {
    [app, tokens] = await Promise.all([parts.app, parts.tokens]);
  });
  const get = () => {
    if (!app) throw new Error('the cart app is not open yet');
    return app;
  };
  const asSidecar: ServiceCall = (method, path, options) =>
    serviceCaller(get(), appApiToken)(method, path, options);
  const conforming = openApiResponseChecker(async () =>
    (await asSidecar('GET', openApiDocumentPath)).json(),
  );
  const call: ServiceCall = async (method, path, options) =>
    conforming(method, path, await asSidecar(method, path, options));
  const deliver = async (event: { type: string }) => {
    const res = await call('POST', `/events/${event.type}`, { body: event, caller: null });
    return ((await res.json()) as { status: string }).status;
  };
  /** A fresh user and their access token, so tests sharing the app never meet. */
  const newUser = async () => {
    if (!tokens) throw new Error('the cart app is not open yet');
    const id = randomUUID();
    return { id, token: await tokens.issue(id) };
  };
  return { ...parts, get, appApiToken, call, deliver, newUser, stateStore };
}

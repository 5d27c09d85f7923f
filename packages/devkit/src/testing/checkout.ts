import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { pollUntil } from '../process/poll.ts';
import { checkInvariants } from './invariants.ts';
import type { TestShop } from './shop.ts';
import {
  everyPage,
  type OrderView,
  type Page,
  type PaymentView,
  type StockView,
  type TimelineEntry,
} from './shop-views.ts';

/**
 * Checkout helpers for end-to-end tests through the gateway of a test shop: a product with
 * its stock open, placing an order (retrying with the same Idempotency-Key while the shop
 * is unavailable, as a client should), and waiting for orders to settle.
 */

/** GET through the gateway as JSON; throws on any answer but 2xx. */
export async function readJson<T>(shop: TestShop, path: string, token: string): Promise<T> {
  const res = await shop.send('GET', path, { token });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A new product with `stock` units, returned once inventory has opened its stock. */
export async function createProductWithStock(
  shop: TestShop,
  adminToken: string,
  product: { sku: string; stock: number; price?: number; name?: string },
): Promise<{ id: string; price: number }> {
  const res = await shop.send('POST', '/api/v1/products', {
    token: adminToken,
    body: {
      sku: product.sku,
      name: product.name ?? `Item ${product.sku}`,
      category: 'e2e',
      price: product.price ?? 2_500,
      currency: 'USD',
      stock: product.stock,
    },
  });
  if (res.status !== 201)
    throw new Error(`product ${product.sku}: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { id: string; price: number };
  await pollUntil(
    async () =>
      (await stockOf(shop, adminToken, created.id)).available === product.stock ? true : undefined,
    { what: `inventory to open the stock of ${created.id}`, timeoutMs: 20_000 },
  );
  return created;
}

export const stockOf = (shop: TestShop, adminToken: string, productId: string) =>
  readJson<StockView>(shop, `/api/v1/products/${productId}/stock`, adminToken);

export const paymentsOf = async (shop: TestShop, adminToken: string, orderId: string) =>
  (
    await readJson<{ items: PaymentView[] }>(
      shop,
      `/api/v1/admin/payments?orderId=${orderId}`,
      adminToken,
    )
  ).items;

export const timelineOf = async (shop: TestShop, token: string, orderId: string) =>
  (await readJson<{ items: TimelineEntry[] }>(shop, `/api/v1/orders/${orderId}/timeline`, token))
    .items;

export type Placement = {
  order: OrderView;
  /** The Idempotency-Key every attempt carried. */
  idempotencyKey: string;
  /** How many POSTs it took: 1 unless the shop refused or failed to answer. */
  attempts: number;
  /** The statuses (or `error` for no answer) of the attempts that were retried. */
  refusals: Array<number | 'error'>;
};

/** Answers that say "not now" rather than "no": the same request may be sent again. */
const retryable = new Set([409, 429, 500, 502, 503, 504]);

/**
 * Places an order through the gateway and returns it once acknowledged (202). With
 * `retryForMs`, a refused or unanswered attempt (5xx, 409 for a key in flight, a network
 * error or timeout) is sent again with the SAME Idempotency-Key and body until that time has
 * passed, so the order is placed at most once however often it is sent. Throws on any other
 * answer, or when the time is up.
 */
export async function placeOrder(
  shop: TestShop,
  token: string,
  input: { items: Array<{ productId: string; quantity: number }>; paymentMethod: string },
  options: { idempotencyKey?: string; retryForMs?: number; requestTimeoutMs?: number } = {},
): Promise<Placement> {
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
  const deadline = Date.now() + (options.retryForMs ?? 0);
  const refusals: Placement['refusals'] = [];
  for (let attempts = 1; ; attempts++) {
    let status: number | 'error';
    let detail = '';
    let pause = 250;
    try {
      const res = await shop.gateway('/api/v1/orders', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(options.requestTimeoutMs ?? 20_000),
      });
      if (res.status === 202) {
        return { order: (await res.json()) as OrderView, idempotencyKey, attempts, refusals };
      }
      status = res.status;
      detail = await res.text();
      const retryAfter = Number(res.headers.get('retry-after'));
      if (retryAfter > 0) pause = Math.min(retryAfter * 1000, 1_000);
      if (!retryable.has(status)) {
        throw new Error(`order with key ${idempotencyKey} refused: ${status} ${detail}`);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('order with key')) throw error;
      status = 'error';
      detail = String(error);
    }
    refusals.push(status);
    if (Date.now() + pause > deadline) {
      throw new Error(
        `order with key ${idempotencyKey} not acknowledged after ${attempts} attempts: ${status} ${detail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Every order of every user, through the admin listing, page by page. */
export async function adminOrders(
  shop: TestShop,
  adminToken: string,
  status?: OrderView['status'],
): Promise<OrderView[]> {
  return everyPage((cursor) => {
    const query = new URLSearchParams({ limit: '100' });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    return readJson<Page<OrderView>>(shop, `/api/v1/admin/orders?${query}`, adminToken);
  });
}

/** One order, read by its owner, once the saga has settled it (confirmed or cancelled). */
export const waitForSettled = (
  shop: TestShop,
  token: string,
  orderId: string,
  options: { timeoutMs?: number } = {},
) =>
  pollUntil(
    async () => {
      const order = await readJson<OrderView>(shop, `/api/v1/orders/${orderId}`, token);
      return order.status === 'pending' ? undefined : order;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200, what: `order ${orderId} to settle` },
  );

/**
 * Waits until none of `orderIds` is pending, then returns every one of them as the admin
 * listing shows it. Throws naming the orders still pending when `timeoutMs` runs out, and
 * the orders the shop does not know at all (lost).
 */
export async function waitForTerminal(
  shop: TestShop,
  adminToken: string,
  orderIds: Iterable<string>,
  options: { timeoutMs?: number } = {},
): Promise<Map<string, OrderView>> {
  const wanted = new Set(orderIds);
  await pollUntil(
    async () => {
      const pending = (await adminOrders(shop, adminToken, 'pending'))
        .map((order) => order.id)
        .filter((id) => wanted.has(id));
      if (pending.length === 0) return true;
      throw new Error(`${pending.length} still pending: ${pending.slice(0, 10).join(', ')}`);
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 500, what: 'the orders to settle' },
  );
  const byId = new Map(
    (await adminOrders(shop, adminToken))
      .filter((order) => wanted.has(order.id))
      .map((order) => [order.id, order]),
  );
  const lost = [...wanted].filter((id) => !byId.has(id));
  if (lost.length > 0)
    throw new Error(`${lost.length} orders lost: ${lost.slice(0, 10).join(', ')}`);
  return byId;
}

/** Runs `task` for 0..count-1 with at most `concurrency` at a time; reports the most in flight. */
export async function runPool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<{ results: T[]; maxInFlight: number }> {
  const results: T[] = new Array(count);
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        results[index] = await task(index);
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { results, maxInFlight };
}

export type FaultRunResult = {
  /** Settled orders by outcome: `confirmed`, `cancelled:<reason>`. */
  outcomes: Record<string, number>;
  /** Orders whose POST was refused or unanswered at least once and sent again. */
  retried: number;
  /** From the end of the fault to the last order settled. */
  settledAfterMs: number;
};

type FaultRunOptions = {
  adminToken: string;
  customers: string[];
  /** Names the product (FAULT-<name>). */
  name: string;
  fault: () => Promise<void>;
  checkouts?: number;
  /** The orders service's ORDER_TTL_SECONDS, for the invariant checker. */
  orderTtlSeconds: number;
};

/**
 * Runs `checkouts` one-unit checkouts of a new product, 20 at a time, spread over
 * `customers`, and `fault` once a third of them are acknowledged; clients retry a refused
 * POST with the same Idempotency-Key. Then checks what a fault must never do: every
 * acknowledged order settles within 60 s of the recovery (the end of `fault`), none is
 * lost, doubled or made up, stock adds up, the invariant checker finds nothing, and no
 * order needed its expiry to settle. One in six is declined, so the compensating half of
 * the saga runs through the fault too.
 */
export async function checkoutsThroughFault(
  shop: TestShop,
  options: FaultRunOptions,
): Promise<FaultRunResult> {
  const { adminToken } = options;
  const checkouts = options.checkouts ?? 60;
  const stock = checkouts + 10;
  const product = await createProductWithStock(shop, adminToken, {
    sku: `FAULT-${options.name}`,
    stock,
  });
  const { placements, recoveredAt } = await placeThroughFault(shop, product.id, options);
  const ids = placements.map((p) => p.order.id);
  expect(new Set(ids).size).toBe(checkouts);
  const settled = await waitForTerminal(shop, adminToken, ids, {
    timeoutMs: Math.max(0, recoveredAt + 60_000 - Date.now()),
  });
  expect(settled.size).toBe(checkouts);

  // Not lost, not doubled, none that no client asked for: exactly one order per key.
  const forProduct = (await adminOrders(shop, adminToken)).filter(
    (order) => order.items[0]?.productId === product.id,
  );
  expect(forProduct.map((order) => order.id).sort()).toEqual([...ids].sort());

  const outcomes = tallyOutcomes(settled.values());
  await expectStockAndInvariants(shop, options, { productId: product.id, stock, outcomes });
  // Nothing was stranded for its expiry to settle; every order ended on its own merits.
  expect(outcomes['cancelled:expired']).toBeUndefined();
  expect((outcomes.confirmed ?? 0) + (outcomes['cancelled:payment_declined'] ?? 0)).toBeGreaterThan(
    0,
  );
  const retried = placements.filter((p) => p.attempts > 1).length;
  return { outcomes, retried, settledAfterMs: Date.now() - recoveredAt };
}

/** Places the checkouts, starting `fault` once a third are acknowledged; returns when it ended. */
async function placeThroughFault(
  shop: TestShop,
  productId: string,
  { customers, fault, checkouts = 60 }: FaultRunOptions,
): Promise<{ placements: Placement[]; recoveredAt: number }> {
  let acknowledged = 0;
  let faultDone: Promise<number> | undefined;
  const startFault = () => {
    faultDone ??= fault().then(() => Date.now());
    return faultDone;
  };
  const { results: placements } = await runPool(checkouts, 20, async (i): Promise<Placement> => {
    const placement = await placeOrder(
      shop,
      customers[i % customers.length] as string,
      {
        items: [{ productId, quantity: 1 }],
        paymentMethod: i % 6 === 5 ? 'pm_card_chargeDeclined' : 'pm_card_visa',
      },
      { retryForMs: 90_000, requestTimeoutMs: 15_000 },
    );
    if (++acknowledged === Math.floor(checkouts / 3)) startFault();
    return placement;
  });
  return { placements, recoveredAt: await startFault() };
}

/** Settled orders by outcome: `confirmed`, `cancelled:<reason>`. */
function tallyOutcomes(orders: Iterable<OrderView>): Record<string, number> {
  const outcomes: Record<string, number> = {};
  for (const order of orders) {
    const key = order.status === 'cancelled' ? `cancelled:${order.cancelReason}` : order.status;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return outcomes;
}

/** The stock adds up and the invariants hold once the last commits and releases are through. */
async function expectStockAndInvariants(
  shop: TestShop,
  { adminToken, orderTtlSeconds }: FaultRunOptions,
  run: { productId: string; stock: number; outcomes: Record<string, number> },
): Promise<void> {
  const confirmed = run.outcomes.confirmed ?? 0;
  await expect
    .poll(() => stockOf(shop, adminToken, run.productId), { timeout: 30_000, interval: 250 })
    .toMatchObject({ available: run.stock - confirmed, reserved: 0, sold: confirmed });
  // A refund or release may still be on its way when the last order settles.
  await expect
    .poll(
      () =>
        checkInvariants({ baseUrl: shop.gatewayUrl as string, adminToken }, { orderTtlSeconds }),
      { timeout: 30_000, interval: 1_000 },
    )
    .toEqual([]);
}

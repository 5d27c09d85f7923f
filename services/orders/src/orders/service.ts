import { randomUUID } from 'node:crypto';
import { AppError, buildEvent, type CatalogClient, type Logger } from '@shop/platform';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { serviceName } from '../config.ts';
import {
  claimKey,
  completeKey,
  type KeyScope,
  releaseKey,
  requestFingerprint,
  type StoredAnswer,
} from '../idempotency/key-store.ts';
import type { OrdersTables } from '../tables.ts';
import type { OrderMetrics } from './metrics.ts';
import {
  appendTimeline,
  findOrder,
  insertOrder,
  type Order,
  type OrderLine,
  type TimelineEntry,
} from './repository.ts';
import type { OrderView, PlaceOrderInput, TimelineView } from './schemas.ts';
import { cancelOrder } from './transitions.ts';

export type OrdersDeps = {
  db: Kysely<OrdersTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
  metrics: OrderMetrics;
};

export type PlacementDeps = OrdersDeps & {
  catalog: CatalogClient;
  currency: string;
  /** REQUIRE_VERIFIED_EMAIL: only callers whose token says their address is verified may order. */
  requireVerifiedEmail?: boolean;
};

/** Refuses the caller when the shop wants a verified address and the token does not say so. */
export function assertMayPlaceOrders(
  deps: Pick<PlacementDeps, 'requireVerifiedEmail'>,
  caller: { emailVerified: boolean },
): void {
  if (deps.requireVerifiedEmail && !caller.emailVerified) {
    throw new AppError('forbidden', 'verify your email address first');
  }
}

export function toOrderView(order: Order): OrderView {
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    items: order.items,
    total: order.total,
    currency: order.currency,
    paymentMethod: order.paymentMethod,
    ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

export function toTimelineView(entries: TimelineEntry[]): TimelineView {
  return { items: entries.map((entry) => ({ ...entry, at: entry.at.toISOString() })) };
}

/** A product listed twice is one line with the quantities added, in first-listed order. */
function mergeLines(
  items: PlaceOrderInput['items'],
): Array<{ productId: string; quantity: number }> {
  const merged = new Map<string, number>();
  for (const { productId, quantity } of items) {
    merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  }
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

/** Names and prices each line from the catalog as it is now; the client's word is never asked. */
async function priceLines(
  deps: Pick<PlacementDeps, 'catalog' | 'currency'>,
  lines: Array<{ productId: string; quantity: number }>,
): Promise<OrderLine[]> {
  const { items } = await deps.catalog.productsByIds(lines.map((line) => line.productId));
  const byId = new Map(items.map((product) => [product.id, product]));
  // Anything the catalog did not price, listed as missing or not, cannot be ordered.
  const unknown = lines.filter((line) => !byId.has(line.productId));
  if (unknown.length > 0) {
    throw new AppError('unprocessable', 'some products cannot be ordered: they do not exist', {
      errors: unknown.map((line) => ({
        path: `items.${lines.indexOf(line)}.productId`,
        message: `no product ${line.productId}`,
      })),
    });
  }
  const foreign = items.filter((product) => product.currency !== deps.currency);
  if (foreign.length > 0) {
    throw new AppError(
      'unprocessable',
      `the shop sells in ${deps.currency}; these products are priced otherwise: ${foreign.map((p) => p.id).join(', ')}`,
    );
  }
  return lines.map((line) => {
    const product = byId.get(line.productId) as NonNullable<ReturnType<typeof byId.get>>;
    return { ...line, name: product.name, unitPrice: product.price };
  });
}

export type PlacementAnswer = StoredAnswer & { replayed: boolean };

/** Claims the key for this attempt, or answers why it cannot be (a repeat gets its answer). */
async function claimOrRefuse(deps: PlacementDeps, scope: KeyScope, input: PlaceOrderInput) {
  const claim = await claimKey(deps.db, scope, requestFingerprint(input));
  switch (claim.outcome) {
    case 'mismatch':
      throw new AppError(
        'unprocessable',
        'this Idempotency-Key was already used with another request body; use a new key for a new order',
      );
    case 'in_flight':
      throw new AppError(
        'conflict',
        'a request with this Idempotency-Key is still being processed; retry shortly',
        { headers: { 'retry-after': '1' } },
      );
  }
  return claim;
}

function pendingOrder(
  deps: Pick<PlacementDeps, 'currency'>,
  userId: string,
  input: PlaceOrderInput,
  items: OrderLine[],
  now: Date,
): Order {
  return {
    id: randomUUID(),
    userId,
    status: 'pending',
    cancelReason: null,
    items,
    total: items.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0),
    currency: deps.currency,
    paymentMethod: input.paymentMethod,
    createdAt: now,
    updatedAt: now,
  };
}

function orderCreated(order: Order) {
  return buildEvent(
    'order.created',
    {
      orderId: order.id,
      userId: order.userId,
      items: order.items.map(({ productId, quantity, unitPrice }) => ({
        productId,
        quantity,
        unitPrice,
      })),
      total: order.total,
      currency: order.currency,
      paymentMethod: order.paymentMethod,
      createdAt: order.createdAt.toISOString(),
    },
    { source: serviceName, time: order.createdAt },
  );
}

/** The order, its first timeline step, `order.created` and the key's answer, in one transaction. */
async function recordPlacement(
  deps: PlacementDeps,
  scope: KeyScope,
  attemptId: string,
  order: Order,
): Promise<StoredAnswer> {
  const created = orderCreated(order);
  const answer: StoredAnswer = {
    status: 202,
    body: toOrderView(order),
    location: `/api/v1/orders/${order.id}`,
  };
  await deps.db.transaction().execute(async (trx) => {
    await insertOrder(trx, order);
    await appendTimeline(trx, order.id, {
      step: 'placed',
      eventId: created.id,
      at: order.createdAt,
    });
    await enqueueEvent(trx, created);
    await completeKey(trx, scope, attemptId, answer);
  });
  deps.metrics.placed(order);
  deps.outbox.wake();
  deps.logger.info('order placed', { orderId: order.id, userId: order.userId, total: order.total });
  return answer;
}

/**
 * Places an order once per Idempotency-Key: claims the key, prices the lines from the
 * catalog, then writes the order, its first timeline step, `order.created` and the key's
 * stored answer in one transaction. A repeat gets the stored answer; a request that fails
 * before that transaction gives the key back.
 */
export async function placeOrder(
  deps: PlacementDeps,
  scope: KeyScope,
  input: PlaceOrderInput,
): Promise<PlacementAnswer> {
  const claim = await claimOrRefuse(deps, scope, input);
  if (claim.outcome === 'replay') return { ...claim.answer, replayed: true };
  try {
    const items = await priceLines(deps, mergeLines(input.items));
    const order = pendingOrder(deps, scope.userId, input, items, new Date());
    return { ...(await recordPlacement(deps, scope, claim.attemptId, order)), replayed: false };
  } catch (error) {
    await releaseKey(deps.db, scope, claim.attemptId).catch((releaseError: unknown) =>
      deps.logger.warn('could not release an Idempotency-Key; it frees itself later', {
        error: releaseError,
      }),
    );
    throw error;
  }
}

const notFound = () => new AppError('not_found', 'no such order');

/** The caller's own order; another user's is as absent as one that does not exist. */
export async function findOwnOrder(
  deps: Pick<OrdersDeps, 'db'>,
  userId: string,
  orderId: string,
): Promise<Order> {
  const order = await findOrder(deps.db, orderId);
  if (!order || order.userId !== userId) throw notFound();
  return order;
}

/** Cancels the caller's order while it is pending or confirmed; a paid one is refunded downstream. */
export async function cancelOwnOrder(
  deps: OrdersDeps,
  userId: string,
  orderId: string,
): Promise<Order> {
  const { order, cancelled } = await deps.db.transaction().execute(async (trx) => {
    const current = await findOrder(trx, orderId);
    if (!current || current.userId !== userId) throw notFound();
    const cancellation = await cancelOrder(trx, orderId, 'customer_request', new Date());
    // Read again either way: the status may have moved since the read above.
    const now = (await findOrder(trx, orderId)) as Order;
    if (!cancellation) {
      throw new AppError('conflict', `the order is ${now.status} and can no longer be cancelled`);
    }
    return { order: now, cancelled: cancellation };
  });
  deps.metrics.settled(cancelled);
  deps.outbox.wake();
  deps.logger.info('order cancelled by its customer', { orderId, userId });
  return order;
}

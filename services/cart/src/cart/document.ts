import { AppError } from '@shop/platform';
import { z } from 'zod';

/** As orders allows per order: a cart must always be placeable as one. */
export const maxLines = 50;
export const maxQuantity = 100;

// Orders keeps an Idempotency-Key 24 h; a checkout is remembered as long, so a replay of
// its key resends the same lines (and gets orders' stored answer) however the cart changed.
const checkoutRetentionMs = 24 * 3600_000;
// A bound on the document's size, whatever a client does within the day.
const maxCheckouts = 20;
// A checkout still waiting for orders' answer this long after it began is taken as lost
// (its request died; orders answers within its 10 s invoke timeout); until then an unknown
// order's end may be its and is retried, within Dapr's ~25 s of redeliveries.
export const pendingCheckoutMs = 20_000;

const line = z.object({
  productId: z.string(),
  quantity: z.number().int().min(1).max(maxQuantity),
});
export type CartLine = z.infer<typeof line>;

const checkoutRecord = z.object({
  idempotencyKey: z.string(),
  /** Exactly the lines sent to orders, resent on a replay so orders sees the same body. */
  items: z.array(line),
  /** Null until orders answered 202 for this key. */
  orderId: z.string().nullable(),
  /** The cart's version the lines were taken at; once placed, the version the checkout left. */
  cartVersion: z.number().int(),
  /** Whether a cancellation for want of stock or payment would still put the lines back. */
  restorable: z.boolean(),
  startedAt: z.iso.datetime(),
});
export type CheckoutRecord = z.infer<typeof checkoutRecord>;

/**
 * One user's cart: its lines in the order they were added, a version counting the changes
 * to them, and the checkouts of the last day.
 */
export const cartDocument = z.object({
  version: z.number().int().min(0),
  items: z.array(line),
  checkouts: z.array(checkoutRecord),
});
export type CartDocument = z.infer<typeof cartDocument>;

export const emptyCart = (): CartDocument => ({ version: 0, items: [], checkouts: [] });

/** A change to the lines: the version moves with it. */
const withItems = (doc: CartDocument, items: CartLine[]): CartDocument => ({
  ...doc,
  items,
  version: doc.version + 1,
});

const replaceCheckout = (doc: CartDocument, record: CheckoutRecord): CartDocument => ({
  ...doc,
  checkouts: doc.checkouts.map((c) => (c.idempotencyKey === record.idempotencyKey ? record : c)),
});

/** The cart without lines whose products the catalog no longer has; the version stays. */
export function withoutMissing(doc: CartDocument, missing: readonly string[]): CartDocument {
  if (missing.length === 0) return doc;
  const gone = new Set(missing);
  return { ...doc, items: doc.items.filter((item) => !gone.has(item.productId)) };
}

/** Sets a line's quantity (0 removes it); undefined when nothing changes. */
export function setQuantity(
  doc: CartDocument,
  productId: string,
  quantity: number,
): CartDocument | undefined {
  const current = doc.items.find((item) => item.productId === productId);
  if (current?.quantity === quantity || (!current && quantity === 0)) return undefined;
  if (quantity === 0) return removeLine(doc, productId);
  if (!current) {
    if (doc.items.length >= maxLines) {
      throw new AppError('conflict', `a cart holds at most ${maxLines} products`);
    }
    return withItems(doc, [...doc.items, { productId, quantity }]);
  }
  return withItems(
    doc,
    doc.items.map((item) => (item.productId === productId ? { productId, quantity } : item)),
  );
}

export function removeLine(doc: CartDocument, productId: string): CartDocument | undefined {
  if (!doc.items.some((item) => item.productId === productId)) return undefined;
  return withItems(
    doc,
    doc.items.filter((item) => item.productId !== productId),
  );
}

export function clearCart(doc: CartDocument): CartDocument | undefined {
  return doc.items.length === 0 ? undefined : withItems(doc, []);
}

export const findCheckout = (doc: CartDocument, idempotencyKey: string) =>
  doc.checkouts.find((c) => c.idempotencyKey === idempotencyKey);

/** Drops the checkouts past their day, and the oldest beyond the bound. */
export function pruneCheckouts(doc: CartDocument, now: Date): CartDocument {
  const since = now.getTime() - checkoutRetentionMs;
  const kept = doc.checkouts.filter((c) => Date.parse(c.startedAt) > since);
  return { ...doc, checkouts: kept.slice(-maxCheckouts) };
}

/**
 * Records a checkout about to be sent to orders with the cart's lines as they are, before
 * anything is placed: a replay of the key then resends these very lines. Undefined when the
 * key is recorded already (a concurrent request with it got there first). An empty cart, or
 * one another key's checkout is still placing, is a 409.
 */
export function beginCheckout(
  doc: CartDocument,
  idempotencyKey: string,
  now: Date,
): CartDocument | undefined {
  if (findCheckout(doc, idempotencyKey)) return undefined;
  if (doc.items.length === 0) throw new AppError('conflict', 'the cart is empty');
  // Another key's checkout of these same lines may be placing its order right now: a
  // second order of them is refused rather than placed.
  if (hasPendingCheckout(doc, now)) {
    throw new AppError('conflict', 'the cart is being checked out already; retry in a moment');
  }
  const record: CheckoutRecord = {
    idempotencyKey,
    items: doc.items,
    orderId: null,
    cartVersion: doc.version,
    restorable: false,
    startedAt: now.toISOString(),
  };
  return { ...doc, checkouts: [...doc.checkouts, record] };
}

/** What is left of `items` once `taken` is taken out of it. */
function subtract(items: CartLine[], taken: CartLine[]): CartLine[] {
  const takenOf = new Map(taken.map((t) => [t.productId, t.quantity]));
  return items.flatMap((item) => {
    const left = item.quantity - (takenOf.get(item.productId) ?? 0);
    return left > 0 ? [{ productId: item.productId, quantity: left }] : [];
  });
}

/**
 * Orders placed the checkout's order: its lines leave the cart (all of it when the cart did
 * not change since they were taken; else only their quantities, so a line added meanwhile
 * stays). Only the first 202 for a key does this: a replay, or a checkout already settled
 * or forgotten, changes nothing (undefined), so a replay never empties a cart filled since.
 */
export function settleCheckout(
  doc: CartDocument,
  idempotencyKey: string,
  orderId: string,
): CartDocument | undefined {
  const record = findCheckout(doc, idempotencyKey);
  if (!record || record.orderId !== null) return undefined;
  const unchanged = doc.version === record.cartVersion;
  const emptied = withItems(doc, unchanged ? [] : subtract(doc.items, record.items));
  return replaceCheckout(emptied, {
    ...record,
    orderId,
    cartVersion: emptied.version,
    restorable: true,
  });
}

/** A checkout orders refused outright: forgotten, so the key can be used with the cart anew. */
export function abandonCheckout(
  doc: CartDocument,
  idempotencyKey: string,
): CartDocument | undefined {
  const record = findCheckout(doc, idempotencyKey);
  if (!record || record.orderId !== null) return undefined;
  return { ...doc, checkouts: doc.checkouts.filter((c) => c !== record) };
}

/** Adds `back` to `items`, quantities capped, within the line bound. */
function merge(items: CartLine[], back: CartLine[]): CartLine[] {
  const merged = new Map(items.map((item) => [item.productId, item.quantity]));
  for (const item of back) {
    merged.set(
      item.productId,
      Math.min(maxQuantity, (merged.get(item.productId) ?? 0) + item.quantity),
    );
  }
  return [...merged].slice(0, maxLines).map(([productId, quantity]) => ({ productId, quantity }));
}

export type OrderOutcome = 'restore' | 'forget';

/**
 * An order's end as the cart sees it: `restore` (cancelled for want of stock or payment)
 * puts the checkout's lines back, but only into a cart nobody changed since the checkout;
 * either way the checkout can no longer restore. Undefined when there is nothing to do.
 */
export function endCheckout(
  doc: CartDocument,
  orderId: string,
  outcome: OrderOutcome,
): CartDocument | undefined {
  const record = doc.checkouts.find((c) => c.orderId === orderId);
  if (!record?.restorable) return undefined;
  const spent = { ...record, restorable: false };
  if (outcome === 'restore' && doc.version === record.cartVersion) {
    return replaceCheckout(withItems(doc, merge(doc.items, record.items)), spent);
  }
  return replaceCheckout(doc, spent);
}

/** Whether a checkout began lately and still waits for orders' answer (its order id). */
export function hasPendingCheckout(doc: CartDocument, now: Date): boolean {
  const since = now.getTime() - pendingCheckoutMs;
  return doc.checkouts.some((c) => c.orderId === null && Date.parse(c.startedAt) > since);
}

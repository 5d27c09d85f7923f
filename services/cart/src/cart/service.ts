import { AppError, type CatalogClient, type CatalogProduct } from '@shop/platform';
import {
  abandonCheckout,
  beginCheckout,
  type CartDocument,
  clearCart,
  findCheckout,
  removeLine,
  setQuantity,
  settleCheckout,
  withoutMissing,
} from './document.ts';
import type { OrdersAnswer, OrdersClient } from './orders.ts';
import { type CartStore, readCart, updateCart } from './repository.ts';
import type { CartView } from './schemas.ts';

export type CartDeps = {
  store: CartStore;
  catalog: CatalogClient;
  orders: OrdersClient;
  currency: string;
};

const idsOf = (doc: CartDocument) => doc.items.map((item) => item.productId);

/** The cart priced by the catalog's answer; lines whose product it lacks are left out. */
function viewOf(doc: CartDocument, products: CatalogProduct[], currency: string): CartView {
  const byId = new Map(products.map((p) => [p.id, p]));
  const items = doc.items.flatMap(({ productId, quantity }) => {
    const product = byId.get(productId);
    if (!product) return [];
    const { name, price: unitPrice, available } = product;
    return [{ productId, name, quantity, unitPrice, available }];
  });
  const total = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  return { items, total, currency };
}

async function priced(deps: CartDeps, doc: CartDocument): Promise<CartView> {
  const { items } = await deps.catalog.productsByIds(idsOf(doc));
  return viewOf(doc, items, deps.currency);
}

export async function showCart(deps: CartDeps, userId: string): Promise<CartView> {
  return priced(deps, await readCart(deps.store, userId));
}

/**
 * Sets one line; the catalog is asked once, for this product and the cart's others, so
 * an unknown product is refused before anything is written and the answer is priced.
 */
export async function setItem(
  deps: CartDeps,
  userId: string,
  productId: string,
  quantity: number,
): Promise<CartView> {
  const before = await readCart(deps.store, userId);
  const ids = [...new Set([productId, ...idsOf(before)])];
  const { items, missing } = await deps.catalog.productsByIds(ids);
  const inCart = before.items.some((item) => item.productId === productId);
  if (missing.includes(productId) && !(quantity === 0 && inCart)) {
    throw new AppError('not_found', 'no such product');
  }
  const after = await updateCart(deps.store, userId, (doc) => {
    const cleaned = withoutMissing(doc, missing);
    const dropped = cleaned.items.length !== doc.items.length;
    return setQuantity(cleaned, productId, quantity) ?? (dropped ? cleaned : undefined);
  });
  return viewOf(after, items, deps.currency);
}

export async function removeItem(
  deps: CartDeps,
  userId: string,
  productId: string,
): Promise<CartView> {
  return priced(deps, await updateCart(deps.store, userId, (doc) => removeLine(doc, productId)));
}

export async function emptyCart(deps: CartDeps, userId: string): Promise<void> {
  await updateCart(deps.store, userId, clearCart);
}

export type Checkout = {
  userId: string;
  authorization: string;
  idempotencyKey: string;
  paymentMethod: string;
};

/**
 * The key's checkout record: the one made by an earlier request with this key, or a new
 * one with the cart's lines (those the catalog still has) as they are now.
 */
async function checkoutRecordFor(deps: CartDeps, checkout: Checkout) {
  const { userId, idempotencyKey } = checkout;
  const doc = await readCart(deps.store, userId);
  const known = findCheckout(doc, idempotencyKey);
  if (known) return known;
  if (doc.items.length === 0) throw new AppError('conflict', 'the cart is empty');
  const { missing } = await deps.catalog.productsByIds(idsOf(doc));
  const now = deps.store.now();
  const recorded = await updateCart(deps.store, userId, (current) =>
    beginCheckout(withoutMissing(current, missing), idempotencyKey, now),
  );
  const record = findCheckout(recorded, idempotencyKey);
  if (!record) throw new Error('the checkout just recorded is not there');
  return record;
}

// Answers after which orders keeps nothing for the key, so the cart need not either.
const refusedOutright = new Set([400, 401, 403, 413, 422]);

/**
 * Places the cart's lines as an order through orders, as the user and with their key, and
 * answers exactly what orders answered. The lines are recorded under the key first: a
 * repeat of the key resends those same lines whatever the cart holds now, so orders
 * replays its answer; and only the first 202 for the key takes the lines out of the cart.
 */
export async function checkoutCart(deps: CartDeps, checkout: Checkout): Promise<OrdersAnswer> {
  const { userId, idempotencyKey } = checkout;
  const record = await checkoutRecordFor(deps, checkout);
  const { authorization, paymentMethod } = checkout;
  const answer = await deps.orders.place({
    authorization,
    idempotencyKey,
    items: record.items,
    paymentMethod,
  });
  if (answer.status === 202) {
    const orderId = orderIdOf(answer);
    await updateCart(deps.store, userId, (doc) => settleCheckout(doc, idempotencyKey, orderId));
  } else if (refusedOutright.has(answer.status)) {
    await updateCart(deps.store, userId, (doc) => abandonCheckout(doc, idempotencyKey));
  }
  return answer;
}

function orderIdOf(answer: OrdersAnswer): string {
  const body = JSON.parse(answer.body) as { id?: unknown };
  if (typeof body.id !== 'string') throw new Error('orders answered 202 without an order id');
  return body.id;
}

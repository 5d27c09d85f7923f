/**
 * Checks the shop's invariants (DESIGN.md, 1–5) from the outside, through the gateway's
 * admin APIs only, as far as they are observable there. Meant for a quiet shop (after a
 * test, after faults have healed): an order still in flight may look like a violation.
 */
import {
  everyPage,
  type OrderView,
  type Page,
  type PaymentView,
  type StockView,
} from './shop-views.ts';

export type Violation = {
  /** The number of the invariant in DESIGN.md. */
  invariant: 1 | 2 | 3 | 4 | 5;
  message: string;
  /** The orders, products or payments concerned. */
  ids: string[];
};

export type InvariantOptions = {
  /** The orders service's ORDER_TTL_SECONDS: a pending order older than this is overdue. */
  orderTtlSeconds?: number;
  /** Slack past the time to live for the expiry sweep's schedule (default 30 s). */
  expiryGraceSeconds?: number;
  now?: Date;
};

type Gateway = { baseUrl: string; adminToken: string };
type Order = Pick<OrderView, 'id' | 'status' | 'total' | 'currency' | 'createdAt'> & {
  items: Array<{ productId: string; quantity: number }>;
};
type Payment = Pick<PaymentView, 'id' | 'orderId' | 'kind' | 'amount' | 'currency' | 'status'>;

/**
 * @example
 * const violations = await checkInvariants({ baseUrl: shop.gatewayUrl, adminToken });
 * expect(violations).toEqual([]);
 */
export async function checkInvariants(
  gateway: Gateway,
  options: InvariantOptions = {},
): Promise<Violation[]> {
  const orders = await listAll<Order>(gateway, '/api/v1/admin/orders');
  const products = await listAll<{ id: string }>(gateway, '/api/v1/products');
  const productIds = new Set([
    ...products.map((p) => p.id),
    ...orders.flatMap((o) => o.items.map((line) => line.productId)),
  ]);
  const held = { confirmed: unitsHeld(orders, 'confirmed'), pending: unitsHeld(orders, 'pending') };
  const violations: Violation[] = [];
  for (const productId of productIds) {
    const stock = await adminGet<StockView>(gateway, `/api/v1/products/${productId}/stock`);
    if (stock) violations.push(...stockViolations(productId, stock, held));
  }
  violations.push(...overdueOrders(orders, options));
  for (const order of orders) {
    const payments = await adminGet<{ items: Payment[] }>(
      gateway,
      `/api/v1/admin/payments?orderId=${order.id}`,
    );
    violations.push(...paymentViolations(order, payments?.items ?? []));
  }
  return violations;
}

/** GET as the admin; undefined for a 404, throws on any other failure. */
async function adminGet<T>(gateway: Gateway, path: string): Promise<T | undefined> {
  const res = await fetch(`${gateway.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${gateway.adminToken}` },
    signal: AbortSignal.timeout(20_000),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

function listAll<T>(gateway: Gateway, path: string): Promise<T[]> {
  return everyPage((cursor) =>
    adminGet<Page<T>>(
      gateway,
      `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    ),
  );
}

/** Units of each product held by the orders in `status`. */
function unitsHeld(orders: Order[], status: Order['status']): Map<string, number> {
  const units = new Map<string, number>();
  for (const order of orders.filter((o) => o.status === status)) {
    for (const line of order.items) {
      units.set(line.productId, (units.get(line.productId) ?? 0) + line.quantity);
    }
  }
  return units;
}

/**
 * 1. Stock: never negative, and conserved: what inventory counts as sold is exactly what
 *    confirmed orders hold, and what it holds reserved belongs to orders still pending.
 */
function stockViolations(
  productId: string,
  stock: StockView,
  held: { confirmed: Map<string, number>; pending: Map<string, number> },
): Violation[] {
  const violations: Violation[] = [];
  const violation = (message: string) =>
    violations.push({ invariant: 1, message, ids: [productId] });
  if (stock.available < 0 || stock.reserved < 0) {
    violation(`negative stock: available ${stock.available}, reserved ${stock.reserved}`);
  }
  const confirmed = held.confirmed.get(productId) ?? 0;
  if (stock.sold !== confirmed)
    violation(`sold ${stock.sold} but confirmed orders hold ${confirmed}`);
  const pending = held.pending.get(productId) ?? 0;
  if (stock.reserved > pending) {
    violation(`reserved ${stock.reserved} but pending orders hold only ${pending}`);
  }
  return violations;
}

/** 2. No order pending past its expiry. */
function overdueOrders(orders: Order[], options: InvariantOptions): Violation[] {
  const now = (options.now ?? new Date()).getTime();
  const overdueAfterMs =
    ((options.orderTtlSeconds ?? 900) + (options.expiryGraceSeconds ?? 30)) * 1000;
  return orders
    .filter(
      (order) => order.status === 'pending' && now - Date.parse(order.createdAt) > overdueAfterMs,
    )
    .map((order) => ({
      invariant: 2,
      message: `pending since ${order.createdAt}, past its expiry`,
      ids: [order.id],
    }));
}

/** 3. Money matches the order's outcome; 5. no charge or refund twice. */
function paymentViolations(order: Order, payments: Payment[]): Violation[] {
  const succeeded = (kind: Payment['kind']) =>
    payments.filter((p) => p.kind === kind && p.status === 'succeeded');
  const charges = succeeded('charge');
  const refunds = succeeded('refund');
  const ids = (list: Payment[]) => [order.id, ...list.map((p) => p.id)];
  const violations: Violation[] = [];
  if (charges.length > 1) {
    violations.push({
      invariant: 5,
      message: `${charges.length} successful charges for one order`,
      ids: ids(charges),
    });
  }
  if (refunds.length > 1) {
    violations.push({
      invariant: 5,
      message: `${refunds.length} refunds for one order`,
      ids: ids(refunds),
    });
  }
  for (const mismatch of outcomeMismatches(order, charges[0], refunds)) {
    violations.push({ invariant: 3, message: mismatch.message, ids: ids(mismatch.payments) });
  }
  return violations;
}

type Mismatch = { message: string; payments: Payment[] };

/** What is wrong with the money for the order's outcome, and the payments concerned. */
function outcomeMismatches(
  order: Order,
  charge: Payment | undefined,
  refunds: Payment[],
): Mismatch[] {
  if (order.status === 'confirmed') {
    const mismatches: Mismatch[] = [];
    if (!charge) mismatches.push({ message: 'confirmed without a charge', payments: [] });
    else if (charge.amount !== order.total || charge.currency !== order.currency) {
      mismatches.push({
        message: `charged ${charge.amount} ${charge.currency} for a total of ${order.total} ${order.currency}`,
        payments: [charge],
      });
    }
    if (refunds.length > 0)
      mismatches.push({ message: 'confirmed but refunded', payments: refunds });
    return mismatches;
  }
  if (order.status === 'cancelled' && charge) {
    const refunded = refunds.reduce((sum, refund) => sum + refund.amount, 0);
    if (refunded === charge.amount) return [];
    return [
      {
        message: `cancelled with a charge of ${charge.amount} and refunds of ${refunded}`,
        payments: [charge, ...refunds],
      },
    ];
  }
  if (refunds.length > 0 && !charge) {
    return [{ message: 'a refund without a charge', payments: refunds }];
  }
  return [];
}

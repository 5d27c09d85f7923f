/**
 * Checks the shop's invariants (DESIGN.md, 1–5) from the outside, through the gateway's
 * admin APIs only, as far as they are observable there. Meant for a quiet shop (after a
 * test, after faults have healed): an order still in flight may look like a violation.
 */

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

type Line = { productId: string; quantity: number };
type Order = {
  id: string;
  status: 'pending' | 'confirmed' | 'cancelled';
  items: Line[];
  total: number;
  currency: string;
  createdAt: string;
};
type Payment = {
  id: string;
  orderId: string;
  kind: 'charge' | 'refund';
  amount: number;
  currency: string;
  status: string;
};
type Stock = { productId: string; available: number; reserved: number; sold: number };

/**
 * @example
 * const violations = await checkInvariants({ baseUrl: shop.gatewayUrl, adminToken });
 * expect(violations).toEqual([]);
 */
export async function checkInvariants(
  gateway: { baseUrl: string; adminToken: string },
  options: InvariantOptions = {},
): Promise<Violation[]> {
  const get = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${gateway.adminToken}` },
      signal: AbortSignal.timeout(20_000),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const everyPage = async <T>(path: string): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const query: string = `${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: T[]; nextCursor: string | null } | undefined = await get(
        `${path}${query}`,
      );
      items.push(...(page?.items ?? []));
      cursor = page?.nextCursor ?? null;
    } while (cursor);
    return items;
  };

  const violations: Violation[] = [];
  const orders = await everyPage<Order>('/api/v1/admin/orders');
  const products = await everyPage<{ id: string }>('/api/v1/products');

  // 1. Stock: never negative, and conserved: what inventory counts as sold is exactly what
  //    confirmed orders hold, and what it holds reserved belongs to orders still pending.
  const unitsBy = (status: Order['status']) => {
    const units = new Map<string, number>();
    for (const order of orders.filter((o) => o.status === status)) {
      for (const line of order.items) {
        units.set(line.productId, (units.get(line.productId) ?? 0) + line.quantity);
      }
    }
    return units;
  };
  const confirmedUnits = unitsBy('confirmed');
  const pendingUnits = unitsBy('pending');
  const productIds = new Set([
    ...products.map((p) => p.id),
    ...orders.flatMap((o) => o.items.map((line) => line.productId)),
  ]);
  for (const productId of productIds) {
    const stock = await get<Stock>(`/api/v1/products/${productId}/stock`);
    if (!stock) continue;
    if (stock.available < 0 || stock.reserved < 0) {
      violations.push({
        invariant: 1,
        message: `negative stock: available ${stock.available}, reserved ${stock.reserved}`,
        ids: [productId],
      });
    }
    const confirmed = confirmedUnits.get(productId) ?? 0;
    if (stock.sold !== confirmed) {
      violations.push({
        invariant: 1,
        message: `sold ${stock.sold} but confirmed orders hold ${confirmed}`,
        ids: [productId],
      });
    }
    const pending = pendingUnits.get(productId) ?? 0;
    if (stock.reserved > pending) {
      violations.push({
        invariant: 1,
        message: `reserved ${stock.reserved} but pending orders hold only ${pending}`,
        ids: [productId],
      });
    }
  }

  // 2. No order pending past its expiry.
  const now = (options.now ?? new Date()).getTime();
  const overdueAfterMs =
    ((options.orderTtlSeconds ?? 900) + (options.expiryGraceSeconds ?? 30)) * 1000;
  for (const order of orders) {
    if (order.status === 'pending' && now - Date.parse(order.createdAt) > overdueAfterMs) {
      violations.push({
        invariant: 2,
        message: `pending since ${order.createdAt}, past its expiry`,
        ids: [order.id],
      });
    }
  }

  // 3. Money matches the order's outcome; 5. no charge or refund twice.
  for (const order of orders) {
    const payments =
      (await get<{ items: Payment[] }>(`/api/v1/admin/payments?orderId=${order.id}`))?.items ?? [];
    const succeeded = (kind: Payment['kind']) =>
      payments.filter((p) => p.kind === kind && p.status === 'succeeded');
    const charges = succeeded('charge');
    const refunds = succeeded('refund');
    const ids = (list: Payment[]) => [order.id, ...list.map((p) => p.id)];
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
    const [charge] = charges;
    if (order.status === 'confirmed') {
      if (!charge) {
        violations.push({ invariant: 3, message: 'confirmed without a charge', ids: [order.id] });
      } else if (charge.amount !== order.total || charge.currency !== order.currency) {
        violations.push({
          invariant: 3,
          message: `charged ${charge.amount} ${charge.currency} for a total of ${order.total} ${order.currency}`,
          ids: ids([charge]),
        });
      }
      if (refunds.length > 0) {
        violations.push({
          invariant: 3,
          message: 'confirmed but refunded',
          ids: ids(refunds),
        });
      }
    } else if (order.status === 'cancelled' && charge) {
      const refunded = refunds.reduce((sum, refund) => sum + refund.amount, 0);
      if (refunded !== charge.amount) {
        violations.push({
          invariant: 3,
          message: `cancelled with a charge of ${charge.amount} and refunds of ${refunded}`,
          ids: ids([charge, ...refunds]),
        });
      }
    } else if (refunds.length > 0 && !charge) {
      violations.push({ invariant: 3, message: 'a refund without a charge', ids: ids(refunds) });
    }
  }
  return violations;
}

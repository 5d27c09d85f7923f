// After the load: waits for every acknowledged order to end, then counts what was kept, lost or
// doubled, and checks the shop's invariants once it is quiet.
import { pollUntil } from '@shop/devkit/process';
import { checkInvariants, everyPage, type OrderView, type Page } from '@shop/devkit/testing';
import { percentiles } from './figures.ts';
import type { OrderFigures, SoakReport } from './report-types.ts';
import type { Gateway } from './shoppers.ts';

type Order = OrderView & { updatedAt: string };

async function adminOrders(
  gateway: Gateway,
  adminToken: string,
  status?: string,
): Promise<Order[]> {
  return everyPage(async (cursor) => {
    const query = new URLSearchParams({
      limit: '100',
      ...(status && { status }),
      ...(cursor && { cursor }),
    });
    const res = await gateway.send('GET', `/api/v1/admin/orders?${query}`, { token: adminToken });
    if (!res.ok) throw new Error(`admin orders: ${res.status} ${await res.text()}`);
    return (await res.json()) as Page<Order>;
  });
}

/**
 * Waits until none of `acknowledged` is pending, at most until the last of them has passed
 * its expiry and a minute's grace for the expiry sweep; then reckons them all.
 */
export async function settleOrders(
  gateway: Gateway,
  adminToken: string,
  run: { acknowledged: string[]; shopperIds: Set<string>; orderTtlSeconds: number },
): Promise<{ figures: OrderFigures; invariants: SoakReport['invariants'] }> {
  const wanted = new Set(run.acknowledged);
  const stillPending = async () =>
    (await adminOrders(gateway, adminToken, 'pending')).filter((o) => wanted.has(o.id)).length;
  await pollUntil(async () => ((await stillPending()) === 0 ? true : undefined), {
    what: 'every acknowledged order to settle',
    timeoutMs: (run.orderTtlSeconds + 60) * 1000,
    intervalMs: 2_000,
  }).catch(() => undefined);
  const ours = (await adminOrders(gateway, adminToken)).filter((o) => run.shopperIds.has(o.userId));
  const figures = reckon(ours, wanted);
  const invariants = await pollUntil(
    async () => {
      const found = await checkInvariants(
        { baseUrl: gateway.url, adminToken },
        { orderTtlSeconds: run.orderTtlSeconds },
      );
      return found.length === 0 ? found : undefined;
    },
    { what: 'the invariants to hold', timeoutMs: 60_000, intervalMs: 5_000 },
  ).catch(() =>
    checkInvariants({ baseUrl: gateway.url, adminToken }, { orderTtlSeconds: run.orderTtlSeconds }),
  );
  return { figures, invariants };
}

/** The soak's orders against what the shop acknowledged. */
export function reckon(ours: Order[], acknowledged: Set<string>): OrderFigures {
  const byId = new Map(ours.map((order) => [order.id, order]));
  const known = [...acknowledged].flatMap((id) => byId.get(id) ?? []);
  const cancelled: Record<string, number> = {};
  for (const order of known.filter((o) => o.status === 'cancelled')) {
    const reason = order.cancelReason ?? 'unknown';
    cancelled[reason] = (cancelled[reason] ?? 0) + 1;
  }
  const settled = known.filter((o) => o.status !== 'pending');
  return {
    acknowledged: acknowledged.size,
    terminal: settled.length,
    confirmed: known.filter((o) => o.status === 'confirmed').length,
    cancelled,
    lost: [...acknowledged].filter((id) => !byId.has(id)),
    doubled: ours.filter((o) => !acknowledged.has(o.id)).map((o) => o.id),
    overdue: known.filter((o) => o.status === 'pending').map((o) => o.id),
    // A shopper's cancel moves updatedAt to whenever the shopper cancelled: not the saga's time.
    settle: percentiles(
      settled
        .filter((o) => o.cancelReason !== 'customer_request')
        .map((o) => Date.parse(o.updatedAt) - Date.parse(o.createdAt)),
    ),
  };
}

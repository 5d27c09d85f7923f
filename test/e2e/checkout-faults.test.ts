import {
  adminOrders,
  checkInvariants,
  createProductWithStock,
  type Placement,
  placeOrder,
  runPool,
  startTestShop,
  stockOf,
  type TestShop,
  waitForTerminal,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Faults in the middle of a run of checkouts: a crashed payments service, a crashed orders
// sidecar, a restarted Redis. Clients retry a refused POST with the same Idempotency-Key
// and count an order once it is acknowledged (202); after recovery every acknowledged
// order must settle, none may be lost or doubled, and the invariants must hold.

/**
 * The default, on purpose: no order may need its expiry to settle. Two settings keep a
 * fault from stranding saga events: an event a consumer cannot take (down, or RETRY) is
 * retried for about 25 s (resiliency.yaml) before it would go to the dead letters, and
 * what a crashed sidecar had taken is claimed again after 45 s (processingTimeout in
 * components/redis/pubsub.yaml). Measured before: a 3.5 s payments outage spent the then
 * 3-4 s retry budget and dead-lettered two or three orders' events, which only their
 * expiry settled; and a killed sidecar's events waited 180 s.
 */
const orderTtlSeconds = 900;

let shop: TestShop;
let adminToken: string;
const customers: string[] = [];
const admin = { email: 'faults-admin@example.com', password: 'admin password 0123' };

beforeAll(async () => {
  shop = await startTestShop({
    appEnv: {
      users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
      // Slow enough that a crash catches charges in the middle of a call to the processor.
      payments: { PAYMENT_TEST_DELAY_MS: '200' },
    },
  });
  adminToken = await shop.login(admin.email, admin.password);
  for (let i = 0; i < 3; i++) {
    const email = `faults-shopper-${i}@example.com`;
    const password = `shopper password ${i} 0123`;
    const res = await shop.send('POST', '/api/v1/auth/register', {
      body: { email, password, name: `Shopper ${i}` },
    });
    expect(res.status).toBe(201);
    customers.push(await shop.login(email, password));
  }
}, 240_000);

afterAll(async () => {
  await shop?.stop();
});

const checkouts = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `checkouts` checkouts, 20 at a time, and `fault` once a third of them are
 * acknowledged; then waits (bounded) for every acknowledged order to settle and checks
 * that nothing was lost, doubled or left inconsistent.
 */
async function checkoutsThrough(name: string, fault: () => Promise<void>) {
  const stock = checkouts + 10;
  const product = await createProductWithStock(shop, adminToken, {
    sku: `FAULT-${name}`,
    stock,
  });
  let acknowledged = 0;
  let faultDone: Promise<number> | undefined;
  const startFault = () => {
    faultDone ??= (async () => {
      await fault();
      return Date.now();
    })();
  };
  const run = runPool(checkouts, 20, async (i): Promise<Placement> => {
    const placement = await placeOrder(
      shop,
      customers[i % customers.length] as string,
      {
        items: [{ productId: product.id, quantity: 1 }],
        // One in six declined: the compensating half of the saga runs through the fault too.
        paymentMethod: i % 6 === 5 ? 'pm_card_chargeDeclined' : 'pm_card_visa',
      },
      { retryForMs: 90_000, requestTimeoutMs: 15_000 },
    );
    if (++acknowledged === checkouts / 3) startFault();
    return placement;
  });
  const { results: placements } = await run;
  startFault();
  const recoveredAt = await (faultDone as Promise<number>);

  const ids = placements.map((p) => p.order.id);
  expect(new Set(ids).size).toBe(checkouts);
  // Every acknowledged order settles within a minute of the recovery (a generous bound).
  const settled = await waitForTerminal(shop, adminToken, ids, {
    timeoutMs: Math.max(0, recoveredAt + 60_000 - Date.now()),
  });
  expect(settled.size).toBe(checkouts);

  // Not lost, not doubled, none that no client asked for: exactly one order per key.
  const forProduct = (await adminOrders(shop, adminToken)).filter(
    (order) => order.items[0]?.productId === product.id,
  );
  expect(forProduct.map((order) => order.id).sort()).toEqual([...ids].sort());

  // The stock adds up once the last commits and releases are through.
  const confirmed = [...settled.values()].filter((order) => order.status === 'confirmed').length;
  await expect
    .poll(() => stockOf(shop, adminToken, product.id), { timeout: 30_000, interval: 250 })
    .toMatchObject({ available: stock - confirmed, reserved: 0, sold: confirmed });
  // A refund or release may still be on its way when the last order settles.
  await expect
    .poll(
      () =>
        checkInvariants({ baseUrl: shop.gatewayUrl as string, adminToken }, { orderTtlSeconds }),
      { timeout: 30_000, interval: 1_000 },
    )
    .toEqual([]);

  const outcomes: Record<string, number> = {};
  for (const order of settled.values()) {
    const key = order.status === 'cancelled' ? `cancelled:${order.cancelReason}` : order.status;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  // Nothing was stranded for its expiry to settle; every order ended on its own merits.
  expect(outcomes['cancelled:expired']).toBeUndefined();
  expect(confirmed + (outcomes['cancelled:payment_declined'] ?? 0)).toBeGreaterThan(0);
  const retried = placements.filter((p) => p.attempts > 1).length;
  return { outcomes, retried, settledAfterMs: Date.now() - recoveredAt };
}

describe('checkout through faults', () => {
  it('survives kill -9 of the payments service in the middle of a run', async ({ annotate }) => {
    const result = await checkoutsThrough('payments', async () => {
      await shop.kill('payments');
      await sleep(3_000);
      await shop.restart('payments');
    });
    await annotate(JSON.stringify(result));
  }, 180_000);

  it('survives kill -9 of the orders sidecar in the middle of a run', async ({ annotate }) => {
    const result = await checkoutsThrough('orders-dapr', async () => {
      await shop.kill('orders-dapr');
      await sleep(3_000);
      await shop.restart('orders-dapr');
    });
    // The gateway reaches orders only through that sidecar: some POSTs were refused, retried.
    expect(result.retried).toBeGreaterThan(0);
    await annotate(JSON.stringify(result));
  }, 180_000);

  it('survives a restart of Redis, the broker, in the middle of a run', async ({ annotate }) => {
    const result = await checkoutsThrough('redis', async () => {
      await shop.kill('redis');
      await sleep(3_000);
      await shop.restart('redis');
    });
    await annotate(JSON.stringify(result));
  }, 180_000);
});

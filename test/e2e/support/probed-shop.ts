import {
  type EventProbe,
  startEventProbe,
  startTestShop,
  type TestShop,
} from '@shop/devkit/testing';
import type { EventType, ShopEvent } from '@shop/platform';

/** One service beside its real sidecar, with a probe that records what it publishes. */
export interface ProbedShop {
  shop: TestShop;
  probe: EventProbe;
  received: ShopEvent[];
  adminToken: string;
}

/**
 * Starts the gateway, users and `app`, with a sidecar-only probe app subscribed to
 * `topics`, and logs `admin` in (users seeds that admin).
 */
export async function startProbedShop(
  app: string,
  topics: readonly EventType[],
  admin: { email: string; password: string },
): Promise<ProbedShop> {
  const probe = await startEventProbe(topics);
  const shop = await startTestShop({
    apps: ['gateway', 'users', app],
    ...probe.shopOptions,
    appEnv: { users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  probe.attach(shop);
  const adminToken = await shop.login(admin.email, admin.password);
  return { shop, probe, received: probe.received, adminToken };
}

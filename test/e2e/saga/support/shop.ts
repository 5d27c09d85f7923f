import type { BrokerProfile } from '@shop/devkit/brokers';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll } from 'vitest';
import { registerCustomer } from '../../support/customers.ts';

/** One shop of the saga suite, filled in by its beforeAll: read it inside tests only. */
export interface SagaShop {
  shop: TestShop;
  broker: BrokerProfile;
  adminToken: string;
  token: string;
}

/** Per-service environment overrides, by app id. */
export type AppEnv = Record<string, Record<string, string>>;

const admin = { email: 'saga-admin@example.com', password: 'admin password 0123' };

/**
 * Starts a whole shop on `broker` before the tests of the enclosing describe and stops it
 * after them; the returned object is filled in when the shop is up.
 */
export function useSagaShop(broker: BrokerProfile, appEnv: AppEnv): SagaShop {
  const saga = {} as SagaShop;
  beforeAll(async () => {
    Object.assign(saga, await shopWith(broker, appEnv));
  }, 240_000);
  afterAll(async () => {
    await saga.shop?.stop();
  });
  return saga;
}

/** Registers `count` more customers once the shop is up; the list fills in then. */
export function useCustomers(saga: SagaShop, prefix: string, count: number): string[] {
  const tokens: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < count; i++) tokens.push(await customer(saga.shop, `${prefix}-${i}`));
  });
  return tokens;
}

/** Registers a customer through the gateway and returns their access token. */
function customer(shop: TestShop, name: string): Promise<string> {
  return registerCustomer(shop, {
    email: `saga-${name}@example.com`,
    password: `shopper password ${name}`,
    name: `Shopper ${name}`,
  });
}

/** Starts a whole shop on `broker` and returns it with an admin's and a customer's tokens. */
async function shopWith(broker: BrokerProfile, appEnv: AppEnv): Promise<SagaShop> {
  const shop = await startTestShop({
    broker,
    // The topic scopes as deployed: every event here is published by its owner (the real
    // services, or this suite through the owner's sidecar), dead letters by their consumer.
    openTopics: false,
    observability: true,
    appEnv: { ...appEnv, users: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } },
  });
  const adminToken = await shop.login(admin.email, admin.password);
  return { shop, broker, adminToken, token: await customer(shop, 'shopper') };
}

import type { TestShop } from '@shop/devkit/testing';
import { expect } from 'vitest';

/** An account to register through the gateway. */
export interface Account {
  email: string;
  password: string;
  name: string;
}

/** Registers `account` through the gateway (201 expected) and returns its access token. */
export async function registerCustomer(shop: TestShop, account: Account): Promise<string> {
  const res = await shop.send('POST', '/api/v1/auth/register', { body: account });
  expect(res.status).toBe(201);
  return shop.login(account.email, account.password);
}

/** Registers `count` customers named `<prefix>-<i>@example.com` and returns their tokens. */
export async function registerCustomers(
  shop: TestShop,
  prefix: string,
  count: number,
): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await registerCustomer(shop, {
        email: `${prefix}-${i}@example.com`,
        password: `shopper password ${i} 0123`,
        name: `Shopper ${i}`,
      }),
    );
  }
  return tokens;
}

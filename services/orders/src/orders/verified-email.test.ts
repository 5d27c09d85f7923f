import type { Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useOrdersApp } from '../test-support.ts';

const body = (productId: string) => ({
  items: [{ productId, quantity: 1 }],
  paymentMethod: 'pm_card_visa',
});

describe('REQUIRE_VERIFIED_EMAIL on', () => {
  const orders = useOrdersApp('pglite', { requireVerifiedEmail: true });

  it.each([
    ['an email_verified of false', { emailVerified: false }],
    ['no email_verified claim', {}],
  ])('refuses a token with %s with 403, claiming no key', async (_, claims) => {
    const { token } = await orders.newUser('customer', claims);
    const product = orders.catalog.add({ price: 500 });
    const res = await orders.place(token, body(product.id), 'unverified-key');
    expect(res.status).toBe(403);
    expect(((await res.json()) as Problem).detail).toBe('verify your email address first');
    const keys = await orders
      .get()
      .db.selectFrom('idempotency_keys')
      .select('key')
      .where('key', '=', 'unverified-key')
      .execute();
    expect(keys).toEqual([]);
  });

  it('places the order of a verified address', async () => {
    const { token } = await orders.newUser('customer', { emailVerified: true });
    const product = orders.catalog.add({ price: 500 });
    expect((await orders.place(token, body(product.id))).status).toBe(202);
  });
});

describe('REQUIRE_VERIFIED_EMAIL off (the default)', () => {
  const orders = useOrdersApp('pglite');

  it('places the order of an unverified address', async () => {
    const { token } = await orders.newUser('customer', { emailVerified: false });
    const product = orders.catalog.add({ price: 500 });
    expect((await orders.place(token, body(product.id))).status).toBe(202);
  });
});

import { describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { useCartApp } from './test-support.ts';

describe('cart', () => {
  const cart = useCartApp();
  describeServiceContract({
    subject: () => ({ app: cart.get(), appApiToken: cart.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/cart' },
    // No jsonRoute: its JSON routes authenticate first, so malformed JSON from a user is
    // tested in cart/routes.test.ts.
    consumesEvents: true,
  });
});

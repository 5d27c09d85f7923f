import { describe, expect, it } from 'vitest';
import { budgetFor } from './budgets.ts';

const spends = (method: string, path: string) =>
  budgetFor(method, path, new URL(`http://shop.test${path}`));

describe('budgetFor', () => {
  it('counts placing an order and checking out a cart in one checkout budget', () => {
    expect(spends('POST', '/api/v1/orders')).toBe('checkout');
    expect(spends('POST', '/api/v1/cart/checkout')).toBe('checkout');
  });

  it('leaves reading orders and changing the cart to the default budget', () => {
    expect(spends('GET', '/api/v1/orders')).toBe('default');
    expect(spends('GET', '/api/v1/cart/checkout')).toBe('default');
    expect(spends('PUT', '/api/v1/cart/items/1')).toBe('default');
    expect(spends('POST', '/api/v1/auth/login')).toBe('auth');
  });
});

import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationCosts } from './operation.ts';

describe('operationCosts', () => {
  const costs = (query: string, variables?: Record<string, unknown>, name?: string) =>
    operationCosts(parse(query), name, variables);

  it('counts each root field once per response name, through fragments', () => {
    expect(
      costs(`{
        a: categories { name } categories { name } categories { name }
        ... on Query { b: categories { name } }
        ...More ...More
      }
      fragment More on Query { c: categories { name } }`),
    ).toEqual({ default: 4 });
  });

  it('charges placeOrder to checkout and products with q to search', () => {
    const query = `mutation($q: String = "lamp") {
      x: placeOrder(input: { items: [], paymentMethod: "pm" }, idempotencyKey: "k") { id }
      y: placeOrder(input: { items: [], paymentMethod: "pm" }, idempotencyKey: "l") { id }
    }`;
    expect(costs(query)).toEqual({ checkout: 2 });
    const search = `query($q: String = "lamp") {
      a: products(q: $q) { items { id } } b: products { items { id } } c: products(q: "") { items { id } }
    }`;
    expect(costs(search)).toEqual({ search: 1, default: 2 });
    expect(costs(search, { q: null })).toEqual({ default: 3 });
    expect(costs(search, { q: 'desk' })).toEqual({ search: 1, default: 2 });
  });

  it('charges checkoutCart to checkout and createUser (registration) to auth, as REST does', () => {
    const query = `mutation {
      a: checkoutCart(paymentMethod: "pm", idempotencyKey: "k") { id }
      b: placeOrder(input: { items: [], paymentMethod: "pm" }, idempotencyKey: "l") { id }
      createUser(email: "a@example.com", password: "p", name: "A") { id }
      setCartItem(productId: "p", quantity: 1) { total }
      createProduct(input: { sku: "s", name: "n", category: "c", price: 1, currency: "USD" }) { id }
    }`;
    expect(costs(query)).toEqual({ checkout: 2, auth: 1, default: 2 });
  });

  it('costs the operation that runs, and one point when none would', () => {
    const document =
      'query A { me { id } } mutation B { cancelOrder(id: "o") { id } placeOrder(input: { items: [], paymentMethod: "p" }, idempotencyKey: "k") { id } }';
    expect(costs(document, {}, 'B')).toEqual({ default: 1, checkout: 1 });
    expect(costs(document, {}, 'C')).toEqual({ default: 1 });
  });
});

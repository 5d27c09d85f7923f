import { describe, expect, it } from 'vitest';
import {
  beginCheckout,
  type CartDocument,
  emptyCart,
  endCheckout,
  pruneCheckouts,
  setQuantity,
  settleCheckout,
} from './document.ts';

const now = new Date('2026-12-07T10:00:00Z');

function cartWith(lines: Array<[string, number]>): CartDocument {
  let doc = emptyCart();
  for (const [id, quantity] of lines) doc = setQuantity(doc, id, quantity) ?? doc;
  return doc;
}

const linesOf = (doc: CartDocument) => doc.items.map((i) => [i.productId, i.quantity]);

describe('a checkout’s effect on the cart', () => {
  it('refuses a second key while the first is placing, until its answer or 20 s', () => {
    const begun = beginCheckout(cartWith([['a', 1]]), 'k1', now) as CartDocument;
    expect(() => beginCheckout(begun, 'k2', now)).toThrow(/checked out already/);
    const later = new Date(now.getTime() + 20_001);
    expect(beginCheckout(begun, 'k2', later)?.checkouts).toHaveLength(2);
    const settled = settleCheckout(begun, 'k1', 'order-1') as CartDocument;
    expect(beginCheckout(setQuantity(settled, 'a', 1) as CartDocument, 'k2', now)).toBeDefined();
  });

  it('takes out only what was ordered when a line changed while orders placed it', () => {
    const begun = beginCheckout(
      cartWith([
        ['a', 2],
        ['b', 1],
      ]),
      'k',
      now,
    ) as CartDocument;
    const meanwhile = setQuantity(setQuantity(begun, 'a', 5) as CartDocument, 'c', 1);
    const settled = settleCheckout(meanwhile as CartDocument, 'k', 'order-1') as CartDocument;
    expect(linesOf(settled)).toEqual([
      ['a', 3],
      ['c', 1],
    ]);
    expect(settleCheckout(settled, 'k', 'order-1')).toBeUndefined();
  });

  it('puts the lines back beside what was left, capped at 100 a line', () => {
    const begun = beginCheckout(cartWith([['a', 60]]), 'k', now) as CartDocument;
    const grown = setQuantity(begun, 'a', 100) as CartDocument;
    const settled = settleCheckout(grown, 'k', 'order-1') as CartDocument;
    expect(linesOf(settled)).toEqual([['a', 40]]);
    const restored = endCheckout(settled, 'order-1', 'restore') as CartDocument;
    expect(linesOf(restored)).toEqual([['a', 100]]);
    expect(restored.version).toBe(settled.version + 1);
  });

  it('forgets checkouts after a day, and keeps no more than twenty', () => {
    let doc = cartWith([['a', 1]]);
    for (let i = 0; i < 25; i++) {
      doc = beginCheckout(doc, `k${i}`, now) as CartDocument;
      doc = settleCheckout(doc, `k${i}`, `order-${i}`) as CartDocument;
      doc = setQuantity(doc, 'a', 1) as CartDocument;
    }
    const kept = pruneCheckouts(doc, now).checkouts.map((c) => c.idempotencyKey);
    expect(kept).toEqual(Array.from({ length: 20 }, (_, i) => `k${i + 5}`));
    const dayLater = new Date(now.getTime() + 24 * 3600_000 + 1);
    expect(pruneCheckouts(doc, dayLater).checkouts).toEqual([]);
  });
});

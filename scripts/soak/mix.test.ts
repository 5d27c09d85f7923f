import { describe, expect, it } from 'vitest';
import { defaultMix, TrafficMix, tagOf } from './mix.ts';

const shoppers = Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, token: `t${i}` }));
const catalog = { productIds: ['p1', 'p2', 'p3'], scarceIds: ['s1'] };
const draw = (seed: number, count: number) => {
  const mix = new TrafficMix(['http://127.0.0.1:1', 'http://127.0.0.1:2'], shoppers, catalog, {
    seed,
    mix: defaultMix,
  });
  return Array.from({ length: count }, () => mix.next().target);
};

describe('the traffic mix', () => {
  it('repeats itself for the same seed', () => {
    const strip = (targets: ReturnType<typeof draw>) =>
      targets.map((t) => `${t.method} ${t.url.replace(/key=[^&]+/, '')}`);
    expect(strip(draw(7, 200))).toEqual(strip(draw(7, 200)));
    expect(strip(draw(7, 200))).not.toEqual(strip(draw(8, 200)));
  });

  it('draws operations near their shares, and tags each with its operation and shopper', () => {
    const ops = draw(1, 5_000).map((t) => tagOf(t.url).op);
    const share = (op: string) => ops.filter((o) => o === op).length / ops.length;
    expect(share('product')).toBeGreaterThan(0.17);
    expect(share('product')).toBeLessThan(0.23);
    expect(share('checkout')).toBeGreaterThan(0.06);
  });

  it('sends a refused checkout again under its own key a second later', () => {
    const mix = new TrafficMix(['http://127.0.0.1:1'], shoppers, catalog, {
      seed: 3,
      mix: { checkout: 1 },
    });
    const first = mix.next();
    expect(first.checkout).toBeDefined();
    mix.retry(first.checkout as NonNullable<typeof first.checkout>, 0);
    expect(mix.next(500).checkout?.key).not.toBe(first.checkout?.key);
    const again = mix.next(1_000);
    expect(again.checkout?.key).toBe(first.checkout?.key);
    expect(tagOf(again.target.url)).toMatchObject({ op: 'checkout', key: first.checkout?.key });
  });

  it('cancels only orders the shop acknowledged, as their owner', () => {
    const mix = new TrafficMix(['http://127.0.0.1:1'], shoppers, catalog, {
      seed: 3,
      mix: { cancel: 1 },
    });
    expect(tagOf(mix.next().target.url).op).toBe('browse');
    mix.acknowledged({ id: 'o1', shopper: 2 });
    const cancel = mix.next().target;
    expect(cancel.url).toContain('/api/v1/orders/o1/cancel#');
    expect(cancel.header.Authorization).toEqual(['Bearer t2']);
  });
});

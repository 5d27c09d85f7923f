import { randomUUID } from 'node:crypto';
import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useTestNotifications, wishlistAudienceOf } from '../test-support.ts';
import type { WishlistAudience } from './audience.ts';

const priceChange = (productId: string, previousPrice: number, price: number) =>
  eventFixture('product.updated', {
    productId,
    name: 'Kettle',
    category: 'kitchen',
    previousPrice,
    price,
  });

const stockChange = (productId: string, available: number, version: number) =>
  eventFixture('stock.changed', { productId, available, reserved: 0, sold: 0, version });

const users = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('price_drop (product.updated)', () => {
  const notifications = useTestNotifications();

  it('reaches exactly the product’s wishlisters, once each however often it is delivered', async () => {
    const [kettle, toaster] = [randomUUID(), randomUUID()];
    const { deliver, db } = await notifications({
      audience: wishlistAudienceOf({ [kettle]: ['ann', 'ben'], [toaster]: ['cat'] }),
    });
    const drop = priceChange(kettle, 2_500, 1_999);
    expect(await deliver(drop)).toBe('SUCCESS');
    expect(await deliver(drop)).toBe('SUCCESS');
    const all = await db.notifications.find().toArray();
    expect(all.map((n) => n.userId).sort()).toEqual(['ann', 'ben']);
    expect(all[0]).toMatchObject({
      type: 'price_drop',
      title: 'Price drop: Kettle',
      body: 'Kettle now costs $19.99 (was $25.00).',
      data: { productId: kettle, price: 1_999, previousPrice: 2_500, currency: 'USD' },
    });
  });

  it('tells nobody of a price that rose or stayed', async () => {
    const kettle = randomUUID();
    const audience = wishlistAudienceOf({ [kettle]: ['ann'] });
    const { deliver, db } = await notifications({ audience });
    expect(await deliver(priceChange(kettle, 1_000, 1_200))).toBe('SUCCESS');
    expect(await deliver(priceChange(kettle, 1_000, 1_000))).toBe('SUCCESS');
    expect(await db.notifications.countDocuments()).toBe(0);
    expect(audience.pagesRead).toBe(0);
  });

  it('notifies 10,000 wishlisters page by page, each exactly once, also after a redelivery', async () => {
    const kettle = randomUUID();
    const wishlisters = users('w', 10_000);
    const audience = wishlistAudienceOf({ [kettle]: wishlisters });
    const { deliver, db, created } = await notifications({ audience });
    const drop = priceChange(kettle, 5_000, 4_000);
    expect(await deliver(drop)).toBe('SUCCESS');
    expect(audience.pagesRead).toBe(100);
    expect(await deliver(drop)).toBe('SUCCESS');
    expect(await db.notifications.countDocuments({ type: 'price_drop' })).toBe(10_000);
    expect(new Set(created.map((n) => n.userId)).size).toBe(10_000);
    expect(created).toHaveLength(10_000);
  }, 120_000);

  it('asks for redelivery when the catalog fails part-way, and the retry completes the rest', async () => {
    const kettle = randomUUID();
    const paged = wishlistAudienceOf({ [kettle]: users('r', 250) });
    let failSecondPage = true;
    const flaky: WishlistAudience = {
      async page(productId, cursor) {
        if (cursor && failSecondPage) {
          failSecondPage = false;
          throw new Error('catalog unavailable');
        }
        return paged.page(productId, cursor);
      },
    };
    const { deliver, db } = await notifications({ audience: flaky });
    const drop = priceChange(kettle, 5_000, 4_000);
    expect(await deliver(drop)).toBe('RETRY');
    expect(await db.notifications.countDocuments()).toBe(100);
    expect(await deliver(drop)).toBe('SUCCESS');
    expect(await db.notifications.countDocuments()).toBe(250);
  });
});

describe('back_in_stock (stock.changed)', () => {
  const notifications = useTestNotifications();

  it('tells the wishlisters when stock goes from 0 to more, and only then', async () => {
    const [kettle, toaster] = [randomUUID(), randomUUID()];
    const { deliver, db } = await notifications({
      audience: wishlistAudienceOf({ [kettle]: ['ann', 'ben'], [toaster]: ['cat'] }),
    });
    expect(await deliver(stockChange(kettle, 0, 1))).toBe('SUCCESS');
    expect(await deliver(stockChange(kettle, 5, 2))).toBe('SUCCESS');
    expect(await deliver(stockChange(kettle, 3, 3))).toBe('SUCCESS');
    const all = await db.notifications.find().toArray();
    expect(all.map((n) => n.userId).sort()).toEqual(['ann', 'ben']);
    expect(all[0]).toMatchObject({
      type: 'back_in_stock',
      data: { productId: kettle, available: 5 },
    });
  });

  it('ignores an older version arriving late, and judges a newer one against the last seen', async () => {
    const kettle = randomUUID();
    const { deliver, db } = await notifications({
      audience: wishlistAudienceOf({ [kettle]: ['ann'] }),
    });
    expect(await deliver(stockChange(kettle, 0, 1))).toBe('SUCCESS');
    // v3 arrives before v2: from 0 (v1) to 4 is back in stock.
    expect(await deliver(stockChange(kettle, 4, 3))).toBe('SUCCESS');
    expect(await deliver(stockChange(kettle, 0, 2))).toBe('SUCCESS');
    expect(await db.stockLevels.findOne({ _id: kettle })).toMatchObject({
      available: 4,
      version: 3,
    });
    expect(await db.notifications.countDocuments()).toBe(1);
  });

  it('gives no verdict on the first level it sees: nothing known came before it', async () => {
    const kettle = randomUUID();
    const { deliver, db } = await notifications({
      audience: wishlistAudienceOf({ [kettle]: ['ann'] }),
    });
    expect(await deliver(stockChange(kettle, 7, 4))).toBe('SUCCESS');
    expect(await db.notifications.countDocuments()).toBe(0);
  });

  it('finishes a back-in-stock alert on redelivery though the level is no longer newer', async () => {
    const kettle = randomUUID();
    const paged = wishlistAudienceOf({ [kettle]: users('s', 150) });
    let failSecondPage = true;
    const flaky: WishlistAudience = {
      async page(productId, cursor) {
        if (cursor && failSecondPage) {
          failSecondPage = false;
          throw new Error('catalog unavailable');
        }
        return paged.page(productId, cursor);
      },
    };
    const { deliver, db } = await notifications({ audience: flaky });
    expect(await deliver(stockChange(kettle, 0, 1))).toBe('SUCCESS');
    const restock = stockChange(kettle, 10, 2);
    expect(await deliver(restock)).toBe('RETRY');
    expect(await db.notifications.countDocuments()).toBe(100);
    expect(await deliver(restock)).toBe('SUCCESS');
    expect(await deliver(restock)).toBe('SUCCESS');
    expect(await db.notifications.countDocuments()).toBe(150);
  });
});

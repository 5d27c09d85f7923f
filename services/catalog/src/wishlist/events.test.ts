import { randomUUID } from 'node:crypto';
import { databaseBackends, eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import type { ProductView } from '../products/schemas.ts';
import { productBody, useCatalogApp } from '../test-support.ts';

describe.each(databaseBackends)('user.deleted on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  const create = async () => {
    const res = await catalog.call('POST', '/api/v1/products', {
      body: productBody(),
      token: catalog.admin(),
    });
    return (await res.json()) as ProductView;
  };
  const wish = async (userId: string, productId: string) => {
    const token = await catalog.tokenFor(userId);
    expect((await catalog.call('PUT', `/api/v1/wishlist/${productId}`, { token })).status).toBe(
      204,
    );
  };
  const rowsOf = (userId: string) =>
    catalog
      .get()
      .db.selectFrom('wishlist_items')
      .select('product_id')
      .where('user_id', '=', userId)
      .orderBy('product_id')
      .execute();
  const deleted = (userId: string) => eventFixture('user.deleted', { userId });

  it("erases the user's wishlist and no one else's", async () => {
    const [gone, stays] = [randomUUID(), randomUUID()];
    for (const product of [await create(), await create()]) {
      await wish(gone, product.id);
      await wish(stays, product.id);
    }
    expect(await catalog.deliver(deleted(gone))).toBe('SUCCESS');
    expect(await rowsOf(gone)).toEqual([]);
    expect(await rowsOf(stays)).toHaveLength(2);
  });

  it('accepts the event again, and for a user with no wishlist', async () => {
    const userId = randomUUID();
    await wish(userId, (await create()).id);
    const event = deleted(userId);
    expect(await catalog.deliver(event)).toBe('SUCCESS');
    expect(await catalog.deliver(event)).toBe('SUCCESS');
    expect(await catalog.deliver(deleted(randomUUID()))).toBe('SUCCESS');
    expect(await rowsOf(userId)).toEqual([]);
  });

  it('drops an event without a user id, erasing nothing', async () => {
    const userId = randomUUID();
    await wish(userId, (await create()).id);
    const event = deleted(userId);
    expect(await catalog.deliver({ ...event, data: { deletedAt: event.data.deletedAt } })).toBe(
      'DROP',
    );
    expect(await rowsOf(userId)).toHaveLength(1);
  });
});

import { randomUUID } from 'node:crypto';
import { databaseBackends } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import {
  orderCancelled,
  orderConfirmed,
  orderCreated,
  productCreated,
  productDeleted,
  useInventoryApp,
} from '../test-support.ts';

describe.each(databaseBackends)('product events on %s', (backend) => {
  const inventory = useInventoryApp(backend);
  const ctx = { inventory, ...productEventHelpers(inventory) };

  productCreatedCases(ctx);
  productDeletedCases(ctx);
  invalidEventCases(ctx);
});

type InventoryApp = ReturnType<typeof useInventoryApp>;
type Ctx = { inventory: InventoryApp } & ReturnType<typeof productEventHelpers>;

/** The stock.rejected published about one order, if any. */
function productEventHelpers(inventory: InventoryApp) {
  const rejectionOf = async (orderId: string) =>
    (await inventory.publishedAfterDrain()).find(
      (e) => e.type === 'stock.rejected' && e.data.orderId === orderId,
    );
  return { rejectionOf };
}

function productCreatedCases({ inventory }: Ctx) {
  it('opens a product’s stock once, with its initial units as the ledger’s first movement', async () => {
    const productId = randomUUID();
    const created = productCreated(productId, 25);
    expect(await inventory.deliver(created)).toBe('SUCCESS');
    expect(await inventory.deliver(created)).toBe('SUCCESS');
    // The same product announced again under another event id changes nothing either.
    expect(await inventory.deliver(productCreated(productId, 99))).toBe('SUCCESS');

    expect(await inventory.stockOf(productId)).toEqual({
      available: 25,
      reserved: 0,
      sold: 0,
      version: 1,
    });
    expect(await inventory.movementsOf(productId)).toEqual([
      {
        reason: 'initial',
        actor: created.id,
        order_id: null,
        available_delta: 25,
        reserved_delta: 0,
        sold_delta: 0,
        version: 1,
      },
    ]);
    const changes = (await inventory.publishedAfterDrain()).filter(
      (e) => e.type === 'stock.changed' && e.data.productId === productId,
    );
    expect(changes).toHaveLength(1);
    expect(changes[0]?.data).toMatchObject({ available: 25, reserved: 0, sold: 0, version: 1 });
  });
}

function productDeletedCases({ inventory, rejectionOf }: Ctx) {
  it('takes no new reservation of a deleted product, but commits and releases those it holds', async () => {
    const productId = randomUUID();
    await inventory.deliver(productCreated(productId, 10));
    const [toConfirm, toCancel, late] = [randomUUID(), randomUUID(), randomUUID()];
    await inventory.deliver(orderCreated(toConfirm, [{ productId, quantity: 2 }]));
    await inventory.deliver(orderCreated(toCancel, [{ productId, quantity: 3 }]));
    expect(await inventory.deliver(productDeleted(productId))).toBe('SUCCESS');

    await inventory.deliver(orderCreated(late, [{ productId, quantity: 1 }]));
    expect(await inventory.reservationOf(late)).toBe('rejected');
    expect((await rejectionOf(late))?.data).toMatchObject({
      shortages: [{ productId, requested: 1, available: 0 }],
    });

    await inventory.deliver(orderConfirmed(toConfirm));
    await inventory.deliver(orderCancelled(toCancel));
    expect(await inventory.stockOf(productId)).toMatchObject({
      available: 8,
      reserved: 0,
      sold: 2,
    });
  });

  it('keeps a product deleted before its creation arrived from coming back', async () => {
    const productId = randomUUID();
    expect(await inventory.deliver(productDeleted(productId))).toBe('SUCCESS');
    expect(await inventory.deliver(productCreated(productId, 10))).toBe('SUCCESS');
    expect(await inventory.stockOf(productId)).toMatchObject({
      available: 0,
      reserved: 0,
      sold: 0,
    });
    const orderId = randomUUID();
    await inventory.deliver(orderCreated(orderId, [{ productId, quantity: 1 }]));
    expect(await inventory.reservationOf(orderId)).toBe('rejected');
  });
}

function invalidEventCases({ inventory }: Ctx) {
  it('drops an event whose payload breaks its schema, changing nothing', async () => {
    const productId = randomUUID();
    const broken = { ...productCreated(productId, 5), data: { productId, initialStock: -1 } };
    expect(await inventory.deliver(broken)).toBe('DROP');
    expect(await inventory.stockOf(productId)).toBeUndefined();
  });

  it('keeps dead letters in its database', async () => {
    const letter = productCreated(randomUUID(), 1);
    const sink = await inventory.call('POST', '/dead-letters', { body: letter, caller: null });
    expect(sink.status).toBe(200);
    const listed = await inventory.call('GET', '/admin/dead-letters', { caller: null });
    const { items } = (await listed.json()) as { items: Array<{ id: string }> };
    expect(items.map((item) => item.id)).toContain(letter.id);
    const rows = await inventory.get().db.selectFrom('dead_letters').select('id').execute();
    expect(rows.map((row) => row.id)).toContain(letter.id);
  });
}

import { randomUUID } from 'node:crypto';
import { eventFixture } from '@shop/devkit/testing';
import type { cancelReasons } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useTestNotifications } from '../test-support.ts';

const registered = (userId: string) =>
  eventFixture('user.registered', { userId, email: `${userId}@example.com`, name: 'Bo' });

const confirmed = (userId: string) =>
  eventFixture('order.confirmed', {
    orderId: randomUUID(),
    userId,
    total: 4_250,
  });

const cancelled = (userId: string, reason: (typeof cancelReasons)[number]) =>
  eventFixture('order.cancelled', { orderId: randomUUID(), userId, reason });

describe('order.confirmed and order.cancelled', () => {
  const notifications = useTestNotifications();

  it('confirms an order once, by inbox and email, however often it is delivered', async () => {
    const { deliver, notificationsOf, mails } = await notifications();
    expect(await deliver(registered('bo'))).toBe('SUCCESS');
    const event = confirmed('bo');
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await deliver(event)).toBe('SUCCESS');
    const orders = (await notificationsOf('bo')).filter((n) => n.type === 'order_confirmed');
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      title: 'Order confirmed',
      body: 'Your order of $42.50 is confirmed.',
      data: { orderId: event.data.orderId, total: 4_250, currency: 'USD' },
    });
    expect(mails.get(`${event.id}:bo`)?.to).toBe('bo@example.com');
  });

  it.each([
    ['out_of_stock', 'Your order was cancelled: some items were out of stock.'],
    ['payment_declined', 'Your order was cancelled: the payment was declined.'],
    ['customer_request', 'Your order was cancelled: you asked us to cancel it.'],
    ['expired', 'Your order was cancelled: it was not completed in time.'],
  ] as const)('says why an order was cancelled (%s) in words', async (reason, body) => {
    const { deliver, notificationsOf } = await notifications();
    const event = cancelled('cy', reason);
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await deliver(event)).toBe('SUCCESS');
    const stored = await notificationsOf('cy');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ type: 'order_cancelled', body, data: { reason } });
  });

  it('sends no email to a user whose address it never learnt', async () => {
    const { deliver, notificationsOf, mails } = await notifications();
    expect(await deliver(confirmed('never-registered'))).toBe('SUCCESS');
    expect(await notificationsOf('never-registered')).toHaveLength(1);
    expect(mails.size).toBe(0);
  });

  it('gives every user their own seqs, growing', async () => {
    const { deliver, notificationsOf } = await notifications();
    for (let i = 0; i < 3; i++) {
      expect(await deliver(confirmed('dee'))).toBe('SUCCESS');
      expect(await deliver(confirmed('eve'))).toBe('SUCCESS');
    }
    for (const user of ['dee', 'eve']) {
      const seqs = (await notificationsOf(user)).map((n) => n.seq);
      expect(seqs).toHaveLength(3);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(3);
    }
  });
});

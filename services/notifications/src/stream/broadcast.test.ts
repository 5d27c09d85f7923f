import { randomUUID } from 'node:crypto';
import { silentLogger } from '@shop/devkit/testing';
import { buildEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../inbox/notification.ts';
import { broadcastRoutes } from './broadcast.ts';

function receiver() {
  const pushed: Notification[] = [];
  const routes = broadcastRoutes({
    hub: { push: (n) => pushed.push(n) },
    logger: silentLogger('notifications'),
  });
  const deliver = (body: unknown) =>
    routes.request('/broadcast/notification.created', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(body),
    });
  return { pushed, deliver };
}

const createdAt = '2026-12-06T12:00:00.000Z';
const data = (type: string) => ({
  id: randomUUID(),
  userId: 'u-1',
  seq: 7,
  type,
  title: 'Order confirmed',
  body: 'Your order of $12.50 is confirmed.',
  data: { total: 1250 },
  sourceKey: `${randomUUID()}:u-1`,
  createdAt,
});

describe('the broadcast of new notifications', () => {
  it("pushes another replica's notification to this replica's streams as it was stored", async () => {
    const { pushed, deliver } = receiver();
    const sent = data('order_confirmed');
    const res = await deliver(
      buildEvent('notification.created', sent, { source: 'notifications' }),
    );
    expect(await res.json()).toEqual({ status: 'SUCCESS' });
    expect(pushed).toEqual([{ ...sent, createdAt: new Date(createdAt), readAt: null }]);
  });

  it('ignores, without a retry, what it cannot read: a type it does not know, or no data', async () => {
    const { pushed, deliver } = receiver();
    for (const body of [{ data: data('a_type_from_the_future') }, { data: null }, 'garbage']) {
      const res = await deliver(body);
      expect(await res.json()).toEqual({ status: 'SUCCESS' });
    }
    expect(pushed).toEqual([]);
  });
});

import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useTestNotifications } from '../test-support.ts';

const registered = eventFixture('user.registered', {
  userId: 'u-1',
  email: 'ada@example.com',
  name: 'Ada',
});

describe('user.registered', () => {
  const notifications = useTestNotifications();

  it('refuses an event sent by another app through service invocation', async () => {
    const { call } = await notifications();
    const res = await call('/events/user.registered', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'dapr-caller-app-id': 'users' },
      body: JSON.stringify(registered),
    });
    expect(res.status).toBe(403);
  });

  it('opens its dead letters only to callers through its own sidecar', async () => {
    const { call } = await notifications();
    const other = await call('/admin/dead-letters', {
      headers: { 'dapr-caller-app-id': 'gateway' },
    });
    expect(other.status).toBe(403);
    const own = await call('/admin/dead-letters', {
      headers: { 'dapr-caller-app-id': 'notifications' },
    });
    expect(own.status).toBe(200);
  });

  it('welcomes once and emails once, however often it is delivered', async () => {
    const { deliver, notificationsOf, created, mails, db } = await notifications();
    expect(await deliver(registered)).toBe('SUCCESS');
    expect(await deliver(registered)).toBe('SUCCESS');
    const stored = await notificationsOf('u-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      type: 'welcome',
      title: 'Welcome to Shop, Ada',
      readAt: null,
      sourceKey: `${registered.id}:u-1`,
    });
    expect(created.map((n) => n.id)).toEqual([stored[0]?._id]);
    expect([...mails.values()]).toEqual([
      { to: 'ada@example.com', notification: expect.objectContaining({ id: stored[0]?._id }) },
    ]);
    expect(await db.recipients.findOne({ _id: 'u-1' })).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada',
    });
  });

  it('drops (to the dead-letter topic) a payload that breaks its schema, writing nothing', async () => {
    const { deliver, db } = await notifications();
    expect(await deliver({ ...registered, data: { userId: 'u-1' } })).toBe('DROP');
    expect(await deliver({ nonsense: true }, 'user.registered')).toBe('DROP');
    expect(await db.notifications.countDocuments()).toBe(0);
    expect(await db.recipients.countDocuments()).toBe(0);
  });

  it('drops, unrepaired, an event without time or of a version it does not read', async () => {
    const { deliver, notificationsOf } = await notifications();
    const { time: _, ...timeless } = registered;
    expect(await deliver(timeless)).toBe('DROP');
    expect(await deliver({ ...registered, dataschema: 'urn:shop:events:user.registered:v2' })).toBe(
      'DROP',
    );
    expect(await notificationsOf('u-1')).toEqual([]);
  });

  it('drops an event delivered on another type’s route', async () => {
    const { deliver } = await notifications();
    expect(await deliver(registered, 'order.created')).toBe('DROP');
  });
});

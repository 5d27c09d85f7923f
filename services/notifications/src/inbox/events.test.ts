import { buildEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createTestNotifications } from '../test-support.ts';

const registered = buildEvent(
  'user.registered',
  { userId: 'u-1', email: 'ada@example.com', name: 'Ada', registeredAt: new Date().toISOString() },
  { source: 'users' },
);

describe('user.registered', () => {
  it('refuses an event sent by another app through service invocation', async () => {
    const { call } = await createTestNotifications();
    const res = await call('/events/user.registered', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'dapr-caller-app-id': 'users' },
      body: JSON.stringify(registered),
    });
    expect(res.status).toBe(403);
  });

  it('opens its dead letters only to callers through its own sidecar', async () => {
    const { call } = await createTestNotifications();
    const other = await call('/admin/dead-letters', {
      headers: { 'dapr-caller-app-id': 'gateway' },
    });
    expect(other.status).toBe(403);
    const own = await call('/admin/dead-letters', {
      headers: { 'dapr-caller-app-id': 'notifications' },
    });
    expect(own.status).toBe(200);
  });

  it('puts one welcome notification in the inbox, however often it is delivered', async () => {
    const { inbox, deliver } = await createTestNotifications();
    expect(await deliver(registered)).toBe('SUCCESS');
    expect(await deliver(registered)).toBe('SUCCESS');
    const items = await inbox.list({ userId: 'u-1', unreadOnly: false, limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'welcome', readAt: null });
  });

  it('drops (to the dead-letter topic) a payload that breaks its schema', async () => {
    const { deliver } = await createTestNotifications();
    expect(await deliver({ ...registered, data: { userId: 'u-1' } })).toBe('DROP');
    expect(await deliver({ nonsense: true })).toBe('DROP');
  });

  it('drops, unrepaired, an event without time or of a version it does not read', async () => {
    const { inbox, deliver } = await createTestNotifications();
    const { time: _, ...timeless } = registered;
    expect(await deliver(timeless)).toBe('DROP');
    expect(await deliver({ ...registered, dataschema: 'urn:shop:events:user.registered:v2' })).toBe(
      'DROP',
    );
    expect(await inbox.list({ userId: 'u-1', unreadOnly: false, limit: 10 })).toEqual([]);
  });

  it('drops an event delivered on another type’s route', async () => {
    const { deliver } = await createTestNotifications();
    expect(await deliver(registered, 'order.created')).toBe('DROP');
  });
});

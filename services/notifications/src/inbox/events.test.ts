import { buildEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createTestNotifications } from '../test-support.ts';

const registered = buildEvent(
  'user.registered',
  { userId: 'u-1', email: 'ada@example.com', name: 'Ada', registeredAt: new Date().toISOString() },
  { source: 'users' },
);

describe('user.registered', () => {
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

  it('drops an event delivered on another type’s route', async () => {
    const { deliver } = await createTestNotifications();
    expect(await deliver(registered, 'order.created')).toBe('DROP');
  });
});

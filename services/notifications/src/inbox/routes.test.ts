import { buildEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createTestNotifications } from '../test-support.ts';

type Page = {
  items: Array<{ id: string; title: string; readAt: string | null }>;
  nextCursor: string | null;
};

async function withWelcomes(userId: string, count: number) {
  const shop = await createTestNotifications();
  for (let i = 0; i < count; i++) {
    const event = buildEvent(
      'user.registered',
      { userId, email: `n${i}@example.com`, name: `N${i}`, registeredAt: new Date().toISOString() },
      { source: 'test' },
    );
    expect(await shop.deliver(event)).toBe('SUCCESS');
  }
  return shop;
}

describe('GET /api/v1/notifications', () => {
  it('needs an access token', async () => {
    const { call } = await createTestNotifications();
    const res = await call('/api/v1/notifications');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('pages through the caller’s own notifications, newest first, and nobody else’s', async () => {
    const { call } = await withWelcomes('alice', 5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await call(`/api/v1/notifications${query}`, { userId: 'alice' });
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((n) => n.title));
      cursor = page.nextCursor;
    } while (cursor);
    // Every one exactly once across the pages (several may share a millisecond, so the
    // order within one is the id's, not the delivery's).
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `Welcome to Shop, N${i}`));
    const other = (await (
      await call('/api/v1/notifications', { userId: 'mallory' })
    ).json()) as Page;
    expect(other).toEqual({ items: [], nextCursor: null });
  });

  it('marks one read and filters unread ones; another user cannot touch it', async () => {
    const { call } = await withWelcomes('bob', 2);
    const [first] = (
      (await (await call('/api/v1/notifications', { userId: 'bob' })).json()) as Page
    ).items;
    const path = `/api/v1/notifications/${first?.id}/read`;
    expect((await call(path, { method: 'POST', userId: 'mallory' })).status).toBe(404);
    expect((await call(path, { method: 'POST', userId: 'bob' })).status).toBe(204);
    expect((await call(path, { method: 'POST', userId: 'bob' })).status).toBe(204);
    const unread = (await (
      await call('/api/v1/notifications?unread=true', { userId: 'bob' })
    ).json()) as Page;
    expect(unread.items.map((n) => n.id)).not.toContain(first?.id);
    expect(unread.items).toHaveLength(1);
  });

  it.each(['?limit=0', '?limit=101', '?limit=abc', '?cursor=not-a-cursor', '?unread=maybe'])(
    'answers %s with 400 problem+json',
    async (query) => {
      const { call } = await createTestNotifications();
      const res = await call(`/api/v1/notifications${query}`, { userId: 'carol' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );
});

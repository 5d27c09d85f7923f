import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useTestNotifications } from '../test-support.ts';

type Page = {
  items: Array<{ id: string; title: string; body: string; readAt: string | null }>;
  nextCursor: string | null;
};

const confirmed = (userId: string, total: number) =>
  eventFixture('order.confirmed', {
    orderId: crypto.randomUUID(),
    userId,
    total,
  });

describe('/api/v1/notifications', () => {
  const notifications = useTestNotifications();

  const ctx = { notifications, ...inboxHelpers(notifications) };

  listCases(ctx);
  readAndQueryCases(ctx);
});

type TestNotifications = ReturnType<typeof useTestNotifications>;
type Ctx = { notifications: TestNotifications } & ReturnType<typeof inboxHelpers>;

/** A notifications app holding one order notification per count for the user. */
function inboxHelpers(notifications: TestNotifications) {
  async function withOrders(userId: string, count: number) {
    const subject = await notifications();
    for (let i = 1; i <= count; i++) {
      expect(await subject.deliver(confirmed(userId, i * 100))).toBe('SUCCESS');
    }
    return subject;
  }
  return { withOrders };
}

function listCases({ notifications, withOrders }: Ctx) {
  it('needs an access token', async () => {
    const { call } = await notifications();
    const res = await call('/api/v1/notifications');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('pages through the caller’s own notifications, newest first, and nobody else’s', async () => {
    const { call } = await withOrders('alice', 5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await call(`/api/v1/notifications${query}`, { userId: 'alice' });
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((n) => n.body));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1].map((i) => `Your order of $${i}.00 is confirmed.`));
    const other = (await (
      await call('/api/v1/notifications', { userId: 'mallory' })
    ).json()) as Page;
    expect(other).toEqual({ items: [], nextCursor: null });
  });
}

function readAndQueryCases({ notifications, withOrders }: Ctx) {
  it('marks one read, counts and filters the unread; another user’s is 404 and stays unread', async () => {
    const { call } = await withOrders('bob', 2);
    const unreadCount = async (userId: string) =>
      (await (await call('/api/v1/notifications/unread-count', { userId })).json()) as {
        unread: number;
      };
    expect(await unreadCount('bob')).toEqual({ unread: 2 });
    const [first] = (
      (await (await call('/api/v1/notifications', { userId: 'bob' })).json()) as Page
    ).items;
    const path = `/api/v1/notifications/${first?.id}/read`;
    const foreign = await call(path, { method: 'POST', userId: 'mallory' });
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get('content-type')).toBe('application/problem+json');
    expect(await unreadCount('bob')).toEqual({ unread: 2 });
    expect((await call(path, { method: 'POST', userId: 'bob' })).status).toBe(204);
    expect((await call(path, { method: 'POST', userId: 'bob' })).status).toBe(204);
    expect(await unreadCount('bob')).toEqual({ unread: 1 });
    expect(await unreadCount('mallory')).toEqual({ unread: 0 });
    const unread = (await (
      await call('/api/v1/notifications?unread=true', { userId: 'bob' })
    ).json()) as Page;
    expect(unread.items.map((n) => n.id)).not.toContain(first?.id);
    expect(unread.items).toHaveLength(1);
  });

  it('answers 404 for a notification that does not exist', async () => {
    const { call } = await notifications();
    const res = await call('/api/v1/notifications/no-such-id/read', {
      method: 'POST',
      userId: 'bob',
    });
    expect(res.status).toBe(404);
  });

  it.each(['?limit=0', '?limit=101', '?limit=abc', '?cursor=not-a-cursor', '?unread=maybe'])(
    'answers %s with 400 problem+json',
    async (query) => {
      const { call } = await notifications();
      const res = await call(`/api/v1/notifications${query}`, { userId: 'carol' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );
}

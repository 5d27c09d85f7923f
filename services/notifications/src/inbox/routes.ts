import { Hono } from 'hono';
import type { InboxRepository } from './repository.ts';

/**
 * Reachable only through Dapr with the app token: the public, token-authenticated
 * inbox API (`/api/v1/notifications`) builds on this once users issue access tokens.
 */
export function internalInboxRoutes(deps: { inbox: InboxRepository }) {
  return new Hono().get('/users/:userId/notifications', async (c) => {
    const items = await deps.inbox.listForUser(c.req.param('userId'));
    return c.json({
      items: items.map((n) => ({
        ...n,
        createdAt: n.createdAt.toISOString(),
        readAt: n.readAt?.toISOString() ?? null,
      })),
      nextCursor: null,
    });
  });
}

import { createRoute, z } from '@hono/zod-openapi';
import {
  AppError,
  bearerSecurity,
  createRouter,
  decodeCursor,
  encodeCursor,
  keysetPage,
  pageOf,
  pageQuery,
  problemResponses,
  singleLineText,
} from '@shop/platform';
import type { NotificationsDb } from '../database.ts';
import { notificationTypes, toNotificationView } from './notification.ts';
import { countUnread, listNotifications, markRead } from './repository.ts';

const notification = z
  .object({
    id: z.string(),
    type: z.enum(notificationTypes),
    title: z.string(),
    body: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
    readAt: z.iso.datetime().nullable(),
  })
  .openapi('Notification');

const listRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: { query: pageQuery.extend({ unread: z.stringbool().optional() }) },
  responses: {
    200: {
      description: 'the caller’s notifications, newest first',
      content: { 'application/json': { schema: pageOf(notification) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

const unreadCountRoute = createRoute({
  method: 'get',
  path: '/unread-count',
  security: bearerSecurity,
  responses: {
    200: {
      description: 'how many of the caller’s notifications are unread',
      content: {
        'application/json': {
          schema: z.object({ unread: z.number().int().min(0) }).openapi('UnreadCount'),
        },
      },
    },
    ...problemResponses(401, 403),
  },
});

const readRoute = createRoute({
  method: 'post',
  path: '/{id}/read',
  security: bearerSecurity,
  request: { params: z.object({ id: singleLineText().min(1).max(100) }) },
  responses: {
    204: { description: 'marked as read' },
    // 404 also for another user's notification, so ids reveal nothing.
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

/** A page ends at a seq; the next starts below it (a user's seqs are unique and only grow). */
const position = z.object({ seq: z.number().int().min(1) });

/** Mounted at /api/v1/notifications behind authenticate(): a user sees only their own. */
export function inboxRoutes(deps: { db: NotificationsDb }) {
  return createRouter()
    .openapi(listRoute, async (c) => {
      const query = c.req.valid('query');
      const after = query.cursor ? decodeCursor(query.cursor, position) : undefined;
      const { rows, nextCursor } = await keysetPage(
        query.limit,
        (limit) =>
          listNotifications(deps.db, {
            userId: c.get('user').id,
            unreadOnly: query.unread ?? false,
            limit,
            beforeSeq: after?.seq,
          }),
        (last) => encodeCursor({ seq: last.seq }),
      );
      return c.json({ items: rows.map(toNotificationView), nextCursor }, 200);
    })
    .openapi(unreadCountRoute, async (c) =>
      c.json({ unread: await countUnread(deps.db, c.get('user').id) }, 200),
    )
    .openapi(readRoute, async (c) => {
      const outcome = await markRead(
        deps.db,
        c.get('user').id,
        c.req.valid('param').id,
        new Date(),
      );
      // Someone else's notification is as absent as one that never existed.
      if (outcome === 'not_found') throw new AppError('not_found', 'no such notification');
      return c.body(null, 204);
    });
}

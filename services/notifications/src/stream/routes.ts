import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, type Logger, problemResponses } from '@shop/platform';
import { streamSSE } from 'hono/streaming';
import type { Notification } from '../inbox/notification.ts';
import type { StreamHub, StreamSubscription } from './hub.ts';

const streamRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  request: {
    headers: z.object({
      // What an EventSource sends when it reconnects: the `id` of the last event it got.
      'last-event-id': z
        .string()
        .regex(/^\d{1,15}$/, 'the seq of the last event received')
        .optional(),
    }),
  },
  responses: {
    200: {
      description:
        'server-sent events: `event: notification`, `id: <seq>` and the notification as JSON ' +
        'data, for each new notification of the caller in seq order; a comment line as a ' +
        'heartbeat. After `Last-Event-ID` it first sends whatever came since.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses(400, 401, 403),
  },
});

function toView(n: Notification) {
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt?.toISOString() ?? null,
  };
}

/** Mounted at /api/v1/notifications/stream behind authenticate(). */
export function streamRoutes(deps: { hub: StreamHub; heartbeatMs: number; logger: Logger }) {
  return createRouter().openapi(streamRoute, (c) => {
    const lastEventId = c.req.valid('header')['last-event-id'];
    const userId = c.get('user').id;
    return streamSSE(c, async (stream) => {
      // Written in the order the hub hands them over, however slowly this client reads.
      let writing = Promise.resolve();
      let subscription: StreamSubscription;
      try {
        subscription = await deps.hub.subscribe({
          userId,
          afterSeq: lastEventId === undefined ? undefined : Number(lastEventId),
          send: (notification) => {
            writing = writing.then(() =>
              stream.writeSSE({
                event: 'notification',
                id: String(notification.seq),
                data: JSON.stringify(toView(notification)),
              }),
            );
          },
        });
      } catch (error) {
        // The store is down: the client reconnects (after Last-Event-ID) once it is back.
        deps.logger.warn('a stream could not start', { error });
        return;
      }
      // Sends the headers through every hop at once, and tells the client it is subscribed.
      await stream.write(': subscribed\n\n');
      const gone = new Promise<void>((resolve) => stream.onAbort(resolve));
      try {
        for (;;) {
          let tick: NodeJS.Timeout | undefined;
          const beat = new Promise<'beat'>((resolve) => {
            tick = setTimeout(() => resolve('beat'), deps.heartbeatMs);
          });
          const why = await Promise.race([beat, gone, subscription.closed]);
          clearTimeout(tick);
          if (why !== 'beat') break;
          // A comment: keeps proxies from closing an idle connection, ignored by clients.
          writing = writing.then(() => stream.write(': heartbeat\n\n').then(() => {}));
        }
      } finally {
        subscription.unsubscribe();
        await writing;
      }
    });
  });
}

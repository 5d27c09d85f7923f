import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, type Logger, problemResponses } from '@shop/platform';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { toNotificationView } from '../inbox/notification.ts';
import type { StreamHub, StreamSubscription } from './hub.ts';
import type { StreamEndReason, StreamLimits } from './limits.ts';

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
        'heartbeat. After `Last-Event-ID` it first sends whatever came since. When the ' +
        'access token expires or its session is logged out, a last `event: reauthenticate` ' +
        '(data `{"reason":"token_expired"}` or `{"reason":"signed_out"}`) and the stream ' +
        'ends. Open streams per user across replicas are capped (STREAM_MAX_PER_USER, default 5) ' +
        'and per replica: beyond, 429 with Retry-After.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses(400, 401, 403, 429, 503),
  },
});

export type StreamRouteDeps = {
  hub: StreamHub;
  limits: StreamLimits;
  heartbeatMs: number;
  logger: Logger;
  /** When the caller's token expires, against this clock. */
  clock?: () => Date;
};

/** The most a timer may wait in Node (about 24.8 days); a later expiry is re-armed then. */
const longestTimerMs = 2 ** 31 - 1;

/** Resolves when the token expiring at `expiresAt` (epoch seconds) has expired. */
function tokenExpiry(expiresAt: number, clock: () => Date) {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'token_expired'>((resolve) => {
    const arm = () => {
      const leftMs = expiresAt * 1000 - clock().getTime();
      if (leftMs <= 0) return resolve('token_expired');
      timer = setTimeout(arm, Math.min(leftMs, longestTimerMs));
    };
    arm();
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

/**
 * Mounted at /api/v1/notifications/stream behind authenticate(). A stream takes a slot of
 * its user's and of the replica's (429 beyond them) and ends, with an `event: reauthenticate`
 * naming why, when its token expires or its session is signed out; ended otherwise (the
 * replica lost its lease, or shuts down) it just closes, and the client reconnects.
 */
export function streamRoutes(deps: StreamRouteDeps) {
  const clock = deps.clock ?? (() => new Date());
  return createRouter().openapi(streamRoute, async (c) => {
    const lastEventId = c.req.valid('header')['last-event-id'];
    const user = c.get('user');
    const admission = await deps.limits.admit({ userId: user.id, sessionId: user.sessionId });
    return streamSSE(c, async (stream) => {
      const expiry = tokenExpiry(user.expiresAt, clock);
      try {
        await serve(stream, {
          ...deps,
          userId: user.id,
          afterSeq: lastEventId === undefined ? undefined : Number(lastEventId),
          ends: Promise.race([expiry.expired, admission.ended]),
        });
      } finally {
        expiry.cancel();
        await admission.release();
      }
    });
  });
}

/** Reasons the client is told to come back with a fresh token. */
const reauthenticateOn = new Set(['token_expired', 'signed_out']);

async function serve(
  stream: SSEStreamingApi,
  options: StreamRouteDeps & {
    userId: string;
    afterSeq: number | undefined;
    ends: Promise<'token_expired' | StreamEndReason>;
  },
) {
  // Written in the order the hub hands them over, however slowly this client reads.
  let writing = Promise.resolve();
  let subscription: StreamSubscription;
  try {
    subscription = await options.hub.subscribe({
      userId: options.userId,
      afterSeq: options.afterSeq,
      send: (notification) => {
        writing = writing.then(() =>
          stream.writeSSE({
            event: 'notification',
            id: String(notification.seq),
            data: JSON.stringify(toNotificationView(notification)),
          }),
        );
      },
    });
  } catch (error) {
    // The store is down: the client reconnects (after Last-Event-ID) once it is back.
    options.logger.warn('a stream could not start', { error });
    return;
  }
  // Sends the headers through every hop at once, and tells the client it is subscribed.
  await stream.write(': subscribed\n\n');
  const gone = new Promise<'gone'>((resolve) => stream.onAbort(() => resolve('gone')));
  const closed = subscription.closed.then(() => 'closed' as const);
  try {
    for (;;) {
      let tick: NodeJS.Timeout | undefined;
      const beat = new Promise<'beat'>((resolve) => {
        tick = setTimeout(() => resolve('beat'), options.heartbeatMs);
      });
      const why = await Promise.race([beat, gone, closed, options.ends]);
      clearTimeout(tick);
      if (reauthenticateOn.has(why)) {
        const reason = JSON.stringify({ reason: why });
        writing = writing.then(() => stream.writeSSE({ event: 'reauthenticate', data: reason }));
      }
      if (why !== 'beat') break;
      // A comment: keeps proxies from closing an idle connection, ignored by clients.
      writing = writing.then(() => stream.write(': heartbeat\n\n').then(() => {}));
    }
  } finally {
    subscription.unsubscribe();
    await writing;
  }
}

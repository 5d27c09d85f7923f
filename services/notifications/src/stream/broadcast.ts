import { buildEvent, createRouter, eventCatalog, type Logger } from '@shop/platform';
import { type Notification, notificationTypes } from '../inbox/notification.ts';
import type { StreamHub } from './hub.ts';

/**
 * The pub/sub component of the broadcast (components/<profile>/stream-broadcast.yaml): each
 * sidecar reads it as a consumer group of its own (`consumerID: "{uuid}"`), so every
 * replica gets every notification, where the shop's `pubsub` hands each event to one.
 */
export const broadcastPubsub = 'broadcast';
const topic = 'notification.created';
const route = `/broadcast/${topic}`;

type Sidecar = { baseUrl: string; apiToken?: string | undefined };

/**
 * Publishes each notification this replica stored to the other replicas, the ones of one
 * moment in one bulk publish. Best effort: a notification the broadcast loses reaches the
 * other replicas' streams by their poll. A failure is logged at most once a minute (a shop
 * deployed without the component fails every time).
 */
export function broadcastPublisher(deps: { sidecar: Sidecar; logger: Logger }) {
  let pending: Notification[] = [];
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      await publishBulk(deps.sidecar, batch);
    } catch (error) {
      if (Date.now() - lastWarnedAt < 60_000) return;
      lastWarnedAt = Date.now();
      deps.logger.warn('broadcast of new notifications failed; other replicas poll', { error });
    }
  };
  return (notification: Notification) => {
    if (pending.length === 0) setImmediate(() => void flush());
    pending.push(notification);
  };
}

async function publishBulk(sidecar: Sidecar, notifications: Notification[]) {
  const entries = notifications.map((n, index) => ({
    entryId: String(index),
    contentType: 'application/cloudevents+json',
    event: buildEvent(
      'notification.created',
      {
        id: n.id,
        userId: n.userId,
        seq: n.seq,
        type: n.type,
        title: n.title,
        body: n.body,
        data: n.data,
        sourceKey: n.sourceKey,
        createdAt: n.createdAt.toISOString(),
      },
      { source: 'notifications' },
    ),
  }));
  const res = await fetch(
    `${sidecar.baseUrl}/v1.0-alpha1/publish/bulk/${broadcastPubsub}/${topic}`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(sidecar.apiToken ? { 'dapr-api-token': sidecar.apiToken } : {}),
      },
      body: JSON.stringify(entries),
      signal: AbortSignal.timeout(5_000),
    },
  );
  if (!res.ok) throw new Error(`bulk publish: ${res.status} ${await res.text()}`);
}

const createdSchema = eventCatalog[topic].versions[1];

/** The notification a broadcast carries, or undefined for one this version cannot show. */
export function notificationOf(data: unknown): Notification | undefined {
  const parsed = createdSchema.safeParse(data);
  if (!parsed.success) return undefined;
  const { type, createdAt, ...rest } = parsed.data;
  const known = notificationTypes.find((t) => t === type);
  if (!known) return undefined;
  return { ...rest, type: known, createdAt: new Date(createdAt), readAt: null };
}

/**
 * The broadcast's delivery route (its subscription is declared beside the component, in
 * components/<profile>/stream-broadcast.yaml): each notification goes to this replica's streams of
 * its user. Always SUCCESS: nothing to retry, and nowhere to dead-letter on this component.
 */
export function broadcastRoutes(deps: { hub: Pick<StreamHub, 'push'>; logger: Logger }) {
  return createRouter().post(route, async (c) => {
    const event = (await c.req.json().catch(() => undefined)) as { data?: unknown } | undefined;
    const notification = notificationOf(event?.data);
    if (notification) deps.hub.push(notification);
    else deps.logger.warn('a broadcast notification this replica cannot read was ignored');
    return c.json({ status: 'SUCCESS' });
  });
}

import { buildEvent, createRouter, eventCatalog, type Logger, type Sidecar } from '@shop/platform';
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

/**
 * Publishes each notification this replica stored to the other replicas, the ones of one
 * moment in one bulk publish. Best effort: a notification the broadcast loses reaches the
 * other replicas' streams by their poll. A failure is logged at most once a minute (a shop
 * deployed without the component fails every time).
 */
export function broadcastPublisher(deps: {
  sidecar: Pick<Sidecar, 'publishBulk'>;
  logger: Logger;
}) {
  let pending: Notification[] = [];
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      await deps.sidecar.publishBulk(broadcastPubsub, topic, batch.map(createdEvent));
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

function createdEvent(n: Notification) {
  const { readAt: _, createdAt, ...fields } = n;
  return buildEvent(
    topic,
    { ...fields, createdAt: createdAt.toISOString() },
    { source: 'notifications' },
  );
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

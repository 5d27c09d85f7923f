import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  type CurrentVersion,
  type EventData,
  type EventType,
  eventCatalog,
  parseEvent,
  type VersionedEvent,
} from '@shop/platform';
import { z } from 'zod';

/** The data of the version of `T` producers publish now. */
export type FixtureData<T extends EventType> = EventData<T, CurrentVersion<T>>;

/**
 * An event as a subscriber's endpoint receives it: the producer's CloudEvent, with the
 * pub/sub component and topic Dapr adds on delivery.
 */
export type DeliveredEvent<T extends EventType> = VersionedEvent<T, CurrentVersion<T>> & {
  pubsubname: 'pubsub';
  topic: T;
};

export type EnvelopeOverrides = {
  id?: string;
  /** The publishing app; the catalogue's producer of the type unless given. */
  source?: string;
  time?: Date;
  traceparent?: string;
};

const now = () => new Date().toISOString();

/**
 * Plausible data of every type in the catalogue, fresh ids and times each call, so a test
 * names only the fields it is about. The mapped type makes a type added to the catalogue
 * without a sample here a type error.
 */
const samples: { [T in EventType]: () => FixtureData<T> } = {
  'user.registered': () => ({
    userId: randomUUID(),
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    registeredAt: now(),
  }),
  'user.signed_out': () => ({ userId: randomUUID(), sessionId: randomUUID() }),
  'user.login_locked': () => ({
    userId: randomUUID(),
    email: 'ada@example.com',
    until: new Date(Date.now() + 15 * 60_000).toISOString(),
    attempts: 10,
  }),
  'user.deleted': () => ({ userId: randomUUID(), deletedAt: now() }),
  'user.password_reset_requested': () => ({
    userId: randomUUID(),
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    token: randomUUID(),
    expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(),
  }),
  'user.email_verification_requested': () => ({
    userId: randomUUID(),
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    token: randomUUID(),
    expiresAt: new Date(Date.now() + 24 * 60 * 60_000).toISOString(),
  }),
  'product.created': () => ({
    productId: randomUUID(),
    sku: `SKU-${randomUUID().slice(0, 8)}`,
    name: 'Desk lamp',
    category: 'lighting',
    price: 2_500,
    currency: 'USD',
    initialStock: 10,
    createdAt: now(),
  }),
  'product.updated': () => ({
    productId: randomUUID(),
    name: 'Desk lamp',
    category: 'lighting',
    previousPrice: 2_500,
    price: 2_000,
    currency: 'USD',
    updatedAt: now(),
  }),
  'product.deleted': () => ({ productId: randomUUID(), deletedAt: now() }),
  'stock.changed': () => ({
    productId: randomUUID(),
    available: 10,
    reserved: 0,
    sold: 0,
    version: 1,
    changedAt: now(),
  }),
  'order.created': () => ({
    orderId: randomUUID(),
    userId: randomUUID(),
    items: [{ productId: randomUUID(), quantity: 2, unitPrice: 1_250 }],
    total: 2_500,
    currency: 'USD',
    paymentMethod: 'pm_card_visa',
    createdAt: now(),
  }),
  'stock.reserved': () => ({
    orderId: randomUUID(),
    items: [{ productId: randomUUID(), quantity: 2 }],
    reservedAt: now(),
  }),
  'stock.rejected': () => ({
    orderId: randomUUID(),
    shortages: [{ productId: randomUUID(), requested: 2, available: 0 }],
    rejectedAt: now(),
  }),
  'payment.succeeded': () => ({
    orderId: randomUUID(),
    paymentId: randomUUID(),
    amount: 2_500,
    currency: 'USD',
    provider: 'test',
    providerRef: `ch_${randomUUID()}`,
    succeededAt: now(),
  }),
  'payment.failed': () => ({ orderId: randomUUID(), reason: 'card_declined', failedAt: now() }),
  'payment.refunded': () => ({
    orderId: randomUUID(),
    paymentId: randomUUID(),
    refundId: randomUUID(),
    amount: 2_500,
    currency: 'USD',
    refundedAt: now(),
  }),
  'order.confirmed': () => ({
    orderId: randomUUID(),
    userId: randomUUID(),
    total: 2_500,
    currency: 'USD',
    confirmedAt: now(),
  }),
  'order.cancelled': () => ({
    orderId: randomUUID(),
    userId: randomUUID(),
    reason: 'payment_declined',
    cancelledAt: now(),
  }),
  'notification.created': () => {
    const userId = randomUUID();
    return {
      id: randomUUID(),
      userId,
      seq: 1,
      type: 'welcome',
      title: 'Welcome',
      body: 'Hello',
      data: {},
      sourceKey: `${randomUUID()}:${userId}`,
      createdAt: now(),
    };
  },
};

/**
 * A complete event of `type` as Dapr delivers it to a subscriber: a sample of the current
 * version's data with `data` laid over it (field by field, at the top level), a fresh id,
 * the time now and the catalogue's producer as its source unless `envelope` says otherwise.
 * Checked as a consumer checks it (envelope and data against the catalogue's schema):
 * an override the schema refuses throws, naming the field.
 *
 * @example
 * const event = eventFixture('order.created', { orderId: order.id, userId: user.id });
 * await deliver(event); // POST /events/order.created, as Dapr would
 */
export function eventFixture<T extends EventType>(
  type: T,
  data: Partial<FixtureData<T>> = {},
  envelope: EnvelopeOverrides = {},
): DeliveredEvent<T> {
  const sample = samples[type] as () => FixtureData<T>;
  refuseUnknownFields(type, data);
  let built: VersionedEvent<T, CurrentVersion<T>>;
  try {
    built = buildEvent(type, { ...sample(), ...data } as FixtureData<T>, {
      source: envelope.source ?? eventCatalog[type].producer,
      id: envelope.id,
      time: envelope.time,
    });
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : String(error);
    throw new Error(`eventFixture('${type}'): the data breaks its schema: ${detail}`);
  }
  const event = {
    ...built,
    ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
    pubsubname: 'pubsub' as const,
    topic: type,
  };
  const received = parseEvent(event);
  if (!received.ok) throw new Error(`eventFixture('${type}'): ${received.reason}`);
  return event;
}

/** The schema would drop a field it does not know; a fixture refuses it, as likely a typo. */
function refuseUnknownFields(type: EventType, data: object): void {
  const entry = eventCatalog[type];
  const schema: unknown = entry.versions[entry.current as keyof typeof entry.versions];
  if (!(schema instanceof z.ZodObject)) return;
  const unknown = Object.keys(data).filter((field) => !Object.hasOwn(schema.shape, field));
  if (unknown.length > 0) {
    throw new Error(`eventFixture('${type}'): no field ${unknown.join(', ')} in its schema`);
  }
}

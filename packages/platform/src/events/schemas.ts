import { z } from 'zod';

/**
 * Event types, each with the payload schema of every version still in use and the version
 * producers publish now. A breaking change adds a version beside the old ones and makes it
 * current; a version goes only when no consumer declares it any more.
 */
export type EventCatalog = {
  readonly [type: string]: {
    /**
     * The app that publishes it; no other may (the pub/sub components' publishingScopes,
     * written from this by `npm run pubsub-scopes`).
     */
    readonly producer?: string;
    readonly current: number;
    readonly versions: { readonly [version: number]: z.ZodType };
  };
};

/** An amount of money in minor units (cents); never a float. */
const money = z.number().int().min(0);
/** An ISO 4217 code; the shop sells in one (`SHOP_CURRENCY`). */
const currency = z.string().regex(/^[A-Z]{3}$/);
const quantity = z.number().int().min(0);
const positiveQuantity = z.number().int().min(1);
/** The users service's id of an account, as every event carries it. */
const userId = z.string().min(1);
const orderLine = z.object({
  productId: z.uuid(),
  quantity: positiveQuantity,
  /** The catalog's price when the order was placed. */
  unitPrice: money,
});

/** A single-use link users asks notifications to mail to an account's owner. */
const mailedLink = z.object({
  userId,
  email: z.email(),
  name: z.string().min(1).max(100),
  token: z.string().min(1),
  expiresAt: z.iso.datetime(),
});

/** Why an order was cancelled. */
export const cancelReasons = [
  'out_of_stock',
  'payment_declined',
  'customer_request',
  'expired',
] as const;

/** Why a charge did not go through: the processor's answer, in the shop's words. */
export const paymentFailureReasons = [
  'card_declined',
  'insufficient_funds',
  'processing_error',
] as const;

/**
 * The shop's events, in one place. A topic is named after its event type.
 */
export const eventCatalog = {
  'user.registered': {
    producer: 'users',
    current: 1,
    versions: {
      1: z.object({
        userId,
        email: z.email(),
        name: z.string().min(1).max(100),
        registeredAt: z.iso.datetime(),
      }),
    },
  },
  /** A session (refresh-token family) ended by logout; published by users. */
  'user.signed_out': {
    producer: 'users',
    current: 1,
    versions: {
      1: z.object({ userId, sessionId: z.string().min(1) }),
    },
  },
  /**
   * The account-wide failed-login cap tripped for an account (at most once per window per
   * account); published by users, so notifications can tell the owner.
   */
  'user.login_locked': {
    producer: 'users',
    current: 1,
    versions: {
      1: z.object({
        userId,
        email: z.email(),
        /** When the account's window ends and logins without a device token work again. */
        until: z.iso.datetime(),
        attempts: z.number().int().min(1),
      }),
    },
  },
  /**
   * An account was deleted by its owner; published by users. Every service erases what it
   * holds about the person (wishlist, inbox, preferences, queued mail, cart); orders and
   * payments keep their records, which name only the user id.
   */
  'user.deleted': {
    producer: 'users',
    current: 1,
    versions: {
      1: z.object({ userId, deletedAt: z.iso.datetime() }),
    },
  },
  /**
   * A password reset was asked for an existing account; published by users so
   * notifications mails the link. `token` is the single-use secret the link carries (users
   * keeps only its hash): the broker holds it until `expiresAt`, like the mail itself.
   */
  'user.password_reset_requested': {
    producer: 'users',
    current: 1,
    versions: {
      1: mailedLink,
    },
  },
  /**
   * An address to confirm (at registration, or asked again); published by users so
   * notifications mails the link. `token` as in `user.password_reset_requested`.
   */
  'user.email_verification_requested': {
    producer: 'users',
    current: 1,
    versions: {
      1: mailedLink,
    },
  },
  'product.created': {
    producer: 'catalog',
    current: 1,
    versions: {
      1: z.object({
        productId: z.uuid(),
        sku: z.string().min(1),
        name: z.string().min(1),
        category: z.string().min(1),
        price: money,
        currency,
        /** Units inventory starts the product's stock with. */
        initialStock: quantity,
        createdAt: z.iso.datetime(),
      }),
    },
  },
  'product.updated': {
    producer: 'catalog',
    current: 1,
    versions: {
      1: z.object({
        productId: z.uuid(),
        name: z.string().min(1),
        category: z.string().min(1),
        /** Both prices, so a consumer can tell a price drop without a read of its own. */
        previousPrice: money,
        price: money,
        currency,
        updatedAt: z.iso.datetime(),
      }),
    },
  },
  'product.deleted': {
    producer: 'catalog',
    current: 1,
    versions: {
      1: z.object({ productId: z.uuid(), deletedAt: z.iso.datetime() }),
    },
  },
  // Published when a product's available count changes; reserved and sold as they stand
  // then (a reservation turning sold alone publishes nothing).
  'stock.changed': {
    producer: 'inventory',
    current: 1,
    versions: {
      1: z.object({
        productId: z.uuid(),
        available: quantity,
        reserved: quantity,
        sold: quantity,
        /** Grows by one with every change of the product's stock; replicas apply only newer ones. */
        version: z.number().int().min(1),
        changedAt: z.iso.datetime(),
      }),
    },
  },
  'order.created': {
    producer: 'orders',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        userId,
        items: z.array(orderLine).min(1),
        total: money,
        currency,
        paymentMethod: z.string().min(1),
        createdAt: z.iso.datetime(),
      }),
    },
  },
  'stock.reserved': {
    producer: 'inventory',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        items: z.array(z.object({ productId: z.uuid(), quantity: positiveQuantity })).min(1),
        reservedAt: z.iso.datetime(),
      }),
    },
  },
  'stock.rejected': {
    producer: 'inventory',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        /** The lines that could not be reserved; nothing of the order was. */
        shortages: z
          .array(
            z.object({ productId: z.uuid(), requested: positiveQuantity, available: quantity }),
          )
          .min(1),
        rejectedAt: z.iso.datetime(),
      }),
    },
  },
  'payment.succeeded': {
    producer: 'payments',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        paymentId: z.uuid(),
        amount: money,
        currency,
        provider: z.string().min(1),
        /** The processor's id for the charge. */
        providerRef: z.string().min(1),
        succeededAt: z.iso.datetime(),
      }),
    },
  },
  'payment.failed': {
    producer: 'payments',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        reason: z.enum(paymentFailureReasons),
        failedAt: z.iso.datetime(),
      }),
    },
  },
  'payment.refunded': {
    producer: 'payments',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        paymentId: z.uuid(),
        refundId: z.uuid(),
        amount: money,
        currency,
        refundedAt: z.iso.datetime(),
      }),
    },
  },
  'order.confirmed': {
    producer: 'orders',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        userId,
        total: money,
        currency,
        confirmedAt: z.iso.datetime(),
      }),
    },
  },
  'order.cancelled': {
    producer: 'orders',
    current: 1,
    versions: {
      1: z.object({
        orderId: z.uuid(),
        userId,
        reason: z.enum(cancelReasons),
        cancelledAt: z.iso.datetime(),
      }),
    },
  },
  /**
   * A notification just stored, for the live streams of every notifications replica: each
   * replica reads it as its own consumer group (the `broadcast` component) and pushes it to
   * the streams it holds for the user. Not durable business state: a lost one is found by
   * the streams' poll.
   */
  'notification.created': {
    producer: 'notifications',
    current: 1,
    versions: {
      1: z.object({
        id: z.uuid(),
        userId,
        /** The user's own sequence number: the stream's event id. */
        seq: z.number().int().min(1),
        type: z.string().min(1),
        title: z.string(),
        body: z.string(),
        data: z.record(z.string(), z.unknown()),
        sourceKey: z.string().min(1),
        createdAt: z.iso.datetime(),
      }),
    },
  },
} as const satisfies EventCatalog;

export type ShopCatalog = typeof eventCatalog;

export type EventType<C extends EventCatalog = ShopCatalog> = keyof C & string;

export type EventVersion<
  T extends EventType<C>,
  C extends EventCatalog = ShopCatalog,
> = keyof C[T]['versions'] & number;

export type CurrentVersion<
  T extends EventType<C>,
  C extends EventCatalog = ShopCatalog,
> = C[T]['current'] & EventVersion<T, C>;

export type EventData<
  T extends EventType<C>,
  V extends EventVersion<T, C>,
  C extends EventCatalog = ShopCatalog,
> = z.output<C[T]['versions'][V]>;

/** The CloudEvents `dataschema` naming one version of one type. */
export type DataSchemaUri<T extends string, V extends number> = `urn:shop:events:${T}:v${V}`;

export function dataSchemaUri<T extends string, V extends number>(
  type: T,
  version: V,
): DataSchemaUri<T, V> {
  return `urn:shop:events:${type}:v${version}`;
}

const dataSchemaPattern = /^urn:shop:events:(?<type>[a-z0-9._-]+):v(?<version>[1-9][0-9]*)$/;

/** The type and version a `dataschema` names, or undefined when it names none in the catalog. */
export function versionNamedBy(
  catalog: EventCatalog,
  uri: string,
): { type: string; version: number } | undefined {
  const groups = dataSchemaPattern.exec(uri)?.groups;
  if (!groups?.type || !groups.version) return undefined;
  const version = Number(groups.version);
  const entry = Object.hasOwn(catalog, groups.type) ? catalog[groups.type] : undefined;
  if (!entry || !Object.hasOwn(entry.versions, version)) return undefined;
  return { type: groups.type, version };
}

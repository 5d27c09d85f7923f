import {
  createTestTokens,
  openApiResponseChecker,
  silentLogger,
  type TestMongo,
  useTestMongo,
  viaSidecar,
} from '@shop/devkit/testing';
import { openApiDocumentPath } from '@shop/platform';
import { afterAll } from 'vitest';
import { createApp } from './app.ts';
import { type NotificationsDb, openNotificationsDatabase } from './database.ts';
import { emailOutboxStore, ensureEmailOutboxIndexes, mongoEmailOutbox } from './email/outbox.ts';
import type { EmailOutbox, MailNotification, Notification } from './inbox/notification.ts';
import { mongoNotificationFeed } from './stream/feed.ts';
import { createStreamHub } from './stream/hub.ts';
import { streamLeaseStore } from './stream/leases.ts';
import { createStreamLimits } from './stream/limits.ts';
import type { WishlistAudience } from './wishlist-alerts/audience.ts';

const appApiToken = 'notifications-app-token-0123';
/** Where the mailed links point in tests. */
export const testPublicUrl = 'https://shop.test';

/** Wishlists as the test declares them, paged like the catalog's. */
export function wishlistAudienceOf(
  wishlisters: Record<string, readonly string[]>,
  pageSize = 100,
): WishlistAudience & { pagesRead: number } {
  const audience = {
    pagesRead: 0,
    async page(productId: string, cursor: string | null) {
      audience.pagesRead++;
      const all = wishlisters[productId] ?? [];
      const start = cursor ? Number(cursor) : 0;
      const end = start + pageSize;
      return { userIds: all.slice(start, end), nextCursor: end < all.length ? String(end) : null };
    },
  };
  return audience;
}

/** An email outbox that keeps what it is handed, one per sourceKey as the real one does. */
export function recordingEmailOutbox(): EmailOutbox & {
  mails: Map<string, { notification: MailNotification; to: string }>;
} {
  const mails = new Map<string, { notification: MailNotification; to: string }>();
  return {
    mails,
    async enqueue(mail) {
      if (!mails.has(mail.notification.sourceKey)) mails.set(mail.notification.sourceKey, mail);
    },
    async erase(userId) {
      const ofUser = [...mails].filter(([, mail]) => mail.notification.userId === userId);
      for (const [sourceKey] of ofUser) mails.delete(sourceKey);
      return ofUser.length;
    },
  };
}

type TestTokens = Awaited<ReturnType<typeof createTestTokens>>;

/** The live stream as the service wires it, polling often so tests need not wait long. */
function testStreams(db: NotificationsDb) {
  const hub = createStreamHub({
    feed: mongoNotificationFeed(db.notifications),
    logger: silentLogger('notifications'),
    pollIntervalMs: 50,
    gapWaitMs: 1_000,
  });
  const limits = createStreamLimits({
    store: streamLeaseStore(db),
    logger: silentLogger('notifications'),
    replicaId: 'test-replica',
    maxPerUser: 5,
    maxPerReplica: 1_000,
    leaseTtlMs: 30_000,
  });
  return { hub, limits, heartbeatMs: 15_000 };
}

/**
 * Calls `app` as the gateway would, as `userId` when given; every answer is checked
 * against the app's OpenAPI document.
 */
function gatewayCaller(app: ReturnType<typeof createApp>, tokens: TestTokens) {
  const conforming = openApiResponseChecker(async () =>
    (await viaSidecar(app, appApiToken)(openApiDocumentPath)).json(),
  );
  return async (path: string, init: RequestInit & { userId?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.userId) headers.set('authorization', `Bearer ${await tokens.issue(init.userId)}`);
    return conforming(
      init.method ?? 'GET',
      path,
      await viaSidecar(app, appApiToken)(path, { ...init, headers }),
    );
  };
}

/** Delivers an event as a Dapr subscription would, and answers what the app told Dapr. */
function subscriptionDeliverer(app: ReturnType<typeof createApp>) {
  const fromSubscription = viaSidecar(app, appApiToken, null);
  return async (event: unknown, route?: string) => {
    const type = route ?? (event as { type: string }).type;
    const res = await fromSubscription(`/events/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    return ((await res.json()) as { status: string }).status;
  };
}

type TestNotificationsOptions = {
  audience?: WishlistAudience;
  databaseUrl?: string;
  /** The real email outbox in the database (its sender is not run) instead of a recording. */
  mongoEmail?: boolean;
};

/**
 * The notifications app over a fresh database on the test file's FerretDB, with real token
 * checks, the created hook and email outbox recorded (or the real outbox, `mongoEmail`),
 * and the catalog's wishlists replaced by `audience`. `close` disconnects.
 */
export async function createTestNotifications(
  mongo: TestMongo,
  options: TestNotificationsOptions = {},
) {
  const tokens = await createTestTokens();
  const databaseUrl = options.databaseUrl ?? mongo.freshDatabaseUrl();
  const database = await openNotificationsDatabase(databaseUrl, silentLogger());
  const created: Notification[] = [];
  const recorded = recordingEmailOutbox();
  const emailStore = emailOutboxStore(database.mongo);
  if (options.mongoEmail) await ensureEmailOutboxIndexes(emailStore);
  const email = options.mongoEmail ? mongoEmailOutbox(emailStore) : recorded;
  const streams = testStreams(database.db);
  const app = createApp({
    config: { APP_API_TOKEN: appApiToken, PUBLIC_URL: testPublicUrl },
    logger: silentLogger('notifications'),
    db: database.db,
    verifier: tokens.verifier,
    audience: options.audience ?? wishlistAudienceOf({}),
    readiness: { sidecar: async () => {}, database: database.ping },
    onCreated: (notification) => {
      created.push(notification);
      streams.hub.push(notification);
    },
    email,
    streams,
  });
  return {
    app,
    appApiToken,
    databaseUrl,
    db: database.db,
    streams: streams.hub,
    streamLimits: streams.limits,
    call: gatewayCaller(app, tokens),
    /** A valid access token for `userId`. */
    tokenFor: (userId: string) => tokens.issue(userId),
    deliver: subscriptionDeliverer(app),
    created,
    mails: recorded.mails,
    /** The real email outbox's collections (used by the app only with `mongoEmail`). */
    emailStore,
    notificationsOf: (userId: string) =>
      database.db.notifications.find({ userId }).sort({ seq: 1 }).toArray(),
    close: () => {
      streams.hub.close();
      return database.close();
    },
  };
}

export type TestNotifications = Awaited<ReturnType<typeof createTestNotifications>>;

/**
 * Gives the enclosing describe a private FerretDB; each call of the answer opens the app
 * over a database of its own, and all are closed after the describe's tests.
 *
 * @example
 * const notifications = useTestNotifications();
 * it('...', async () => { const { deliver, call } = await notifications(); ... });
 */
export function useTestNotifications() {
  const mongo = useTestMongo();
  const opened: TestNotifications[] = [];
  // Registered after the FerretDB's own hook, so it runs before the server stops.
  afterAll(async () => {
    await Promise.all(opened.map((subject) => subject.close()));
  });
  const open = async (options: TestNotificationsOptions = {}) => {
    const subject = await createTestNotifications(mongo(), options);
    opened.push(subject);
    return subject;
  };
  return Object.assign(open, { mongo });
}

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  createTestTokens,
  readEventStream,
  silentLogger,
  useTestMongo,
  viaSidecar,
} from '@shop/devkit/testing';
import { createServiceApp } from '@shop/platform';
import { authenticate } from '@shop/platform/auth';
import { type Collection, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectionsOf, ensureIndexes } from '../database.ts';
import type { Notification, NotificationDocument } from '../inbox/notification.ts';
import { mongoNotificationFeed } from './feed.ts';
import { createStreamHub, type StreamHub } from './hub.ts';
import { recordSignOut, type StreamLeaseStore, streamLeaseStore } from './leases.ts';
import { createStreamLimits, type StreamLimits } from './limits.ts';
import { streamRoutes } from './routes.ts';

// Two replicas are two hubs (and two apps) over one real database (FerretDB): a
// notification stored through either reaches a stream held by the other.
const mongo = useTestMongo();
let client: MongoClient;
let notifications: Collection<NotificationDocument>;
const hubs: StreamHub[] = [];
const appApiToken = 'notifications-app-token-0123';

let leaseStore: StreamLeaseStore;

beforeAll(async () => {
  client = new MongoClient(mongo().freshDatabaseUrl());
  const db = collectionsOf(client.db());
  await ensureIndexes(db);
  notifications = db.notifications;
  leaseStore = streamLeaseStore(db);
});
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
});
afterAll(() => client?.close());

/** Cursors per query, of every query a replica made; and its starting-point queries. */
let queries: number[] = [];
let startQueries = 0;

function replica(
  options: { gapWaitMs?: number; pollIntervalMs?: number | 'manual'; now?: () => number } = {},
) {
  const feed = mongoNotificationFeed(notifications);
  const hub = createStreamHub({
    feed: {
      ...feed,
      after: (cursors, limit) => {
        queries.push(cursors.length);
        return feed.after(cursors, limit);
      },
      latestSeqs: (userIds) => {
        startQueries++;
        return feed.latestSeqs(userIds);
      },
    },
    logger: silentLogger('notifications'),
    pollIntervalMs: options.pollIntervalMs ?? 50,
    gapWaitMs: options.gapWaitMs ?? 5_000,
    ...(options.now ? { now: options.now } : {}),
  });
  hubs.push(hub);
  return hub;
}

/** A replica that polls only when the test says, on a clock only the test moves. */
function steppedReplica(gapWaitMs = 5_000) {
  let now = Date.now();
  const hub = replica({ gapWaitMs, pollIntervalMs: 'manual', now: () => now });
  return Object.assign(hub, {
    advance(ms: number) {
      now += ms;
    },
  });
}

function notification(userId: string, seq: number): Notification {
  return {
    id: randomUUID(),
    userId,
    type: 'welcome',
    title: `#${seq}`,
    body: 'hello',
    data: {},
    createdAt: new Date(),
    readAt: null,
    seq,
    sourceKey: `${randomUUID()}:${userId}`,
  };
}

/** Stores it as a replica would; returns it for that replica's onCreated hook. */
async function store(userId: string, seq: number): Promise<Notification> {
  const n = notification(userId, seq);
  const { id, ...rest } = n;
  await notifications.insertOne({ _id: id, ...rest });
  return n;
}

function collect() {
  const seen: number[] = [];
  return {
    seen,
    send: (n: Notification) => {
      seen.push(n.seq);
    },
    until: (count: number, timeoutMs = 10_000) =>
      pollUntil(() => (seen.length >= count ? seen : undefined), {
        what: `${count} notifications on the stream`,
        timeoutMs,
        intervalMs: 20,
      }),
  };
}

describe('the stream hub', () => {
  hubPollingCases();
  hubOrderingCases();
  hubLoadAndCloseCases();
});

describe('GET /api/v1/notifications/stream', () => {
  // One object, filled before the cases run: the case functions hold it from the start.
  const tokens = {} as TestTokens;
  beforeAll(async () => {
    Object.assign(tokens, await createTestTokens());
  });

  const ctx = { tokens, ...streamHelpers(tokens) };

  streamDeliveryCases(ctx);
  resumeAndEndCases(ctx);
  streamLimitCases(ctx);
  streamEndCases(ctx);
});

type TestTokens = Awaited<ReturnType<typeof createTestTokens>>;
type Ctx = { tokens: TestTokens } & ReturnType<typeof streamHelpers>;

/** A streaming app on a hub, its limits, and a client that opens a stream on it. */
function streamHelpers(tokens: TestTokens) {
  function limitsOf(maxPerReplica = 1_000) {
    return createStreamLimits({
      store: leaseStore,
      logger: silentLogger('notifications'),
      replicaId: randomUUID(),
      maxPerUser: 5,
      maxPerReplica,
      leaseTtlMs: 30_000,
    });
  }

  function streamingApp(
    hub: StreamHub,
    options: { limits?: StreamLimits; clock?: () => Date } = {},
  ) {
    const app = createServiceApp({
      service: 'notifications',
      logger: silentLogger('notifications'),
      appApiToken,
      publicApiCallers: ['gateway'],
    });
    app.use('/api/v1/notifications/*', authenticate(tokens.verifier));
    app.route(
      '/api/v1/notifications/stream',
      streamRoutes({
        hub,
        limits: options.limits ?? limitsOf(),
        heartbeatMs: 100,
        logger: silentLogger('notifications'),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    );
    return viaSidecar(app, appApiToken);
  }

  async function open(
    call: ReturnType<typeof streamingApp>,
    userId: string,
    lastEventId?: string,
    token?: string,
  ) {
    const bearer = token ?? (await tokens.issue(userId));
    const headers = new Headers({ authorization: `Bearer ${bearer}` });
    if (lastEventId) headers.set('last-event-id', lastEventId);
    const res = await call('/api/v1/notifications/stream', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = readEventStream(res);
    expect(await stream.next()).toEqual({ kind: 'comment', text: 'subscribed' });
    return stream;
  }
  return { limitsOf, streamingApp, open };
}

function streamDeliveryCases({ tokens, streamingApp, open }: Ctx) {
  it('needs an access token, and refuses a Last-Event-ID that is no seq', async () => {
    const call = streamingApp(replica());
    expect((await call('/api/v1/notifications/stream')).status).toBe(401);
    const res = await call('/api/v1/notifications/stream', {
      headers: {
        authorization: `Bearer ${await tokens.issue('u-x')}`,
        'last-event-id': 'abc',
      },
    });
    expect(res.status).toBe(400);
  });

  it('sends each new notification as an event with its seq as id, and heartbeats between', async () => {
    const userId = `u-${randomUUID()}`;
    const [a, b] = [replica(), replica()];
    const stream = await open(streamingApp(a), userId);
    streamingApp(b);
    const stored = await store(userId, 1);
    b.push(stored);
    const event = await stream.nextEvent();
    expect(event).toMatchObject({ id: '1', event: 'notification' });
    expect(JSON.parse(event.data)).toEqual({
      id: stored.id,
      type: 'welcome',
      title: '#1',
      body: 'hello',
      data: {},
      createdAt: stored.createdAt.toISOString(),
      readAt: null,
    });
    expect(await stream.next()).toEqual({ kind: 'comment', text: 'heartbeat' });
    await stream.close();
  });
}

function resumeAndEndCases({ streamingApp, open }: Ctx) {
  it('resumes after Last-Event-ID on the other replica with no gap and no duplicate', async () => {
    const userId = `u-${randomUUID()}`;
    const [a, b] = [replica(), replica()];
    const first = await open(streamingApp(a), userId);
    await store(userId, 1);
    await store(userId, 2);
    expect((await first.nextEvent()).id).toBe('1');
    expect((await first.nextEvent()).id).toBe('2');
    await first.close();
    await store(userId, 3);
    // Reconnected to the other replica, as a load balancer may.
    const second = await open(streamingApp(b), userId, '2');
    expect((await second.nextEvent()).id).toBe('3');
    await store(userId, 4);
    expect((await second.nextEvent()).id).toBe('4');
    await second.close();
  });

  it('ends the stream cleanly when the hub closes on shutdown', async () => {
    const hub = replica();
    const stream = await open(streamingApp(hub), `u-${randomUUID()}`);
    hub.close();
    await stream.ended();
  });

  it('lets go of the subscription when the client goes away', async () => {
    const hub = replica();
    const stream = await open(streamingApp(hub), `u-${randomUUID()}`);
    expect(hub.size()).toBe(1);
    await stream.close();
    await pollUntil(() => (hub.size() === 0 ? true : undefined), {
      what: 'the hub to drop the closed stream',
      timeoutMs: 5_000,
      intervalMs: 20,
    });
  });
}

function streamLimitCases({ tokens, limitsOf, streamingApp, open }: Ctx) {
  it('refuses a sixth stream of a user with 429, Retry-After and a problem, across replicas', async () => {
    const userId = `u-${randomUUID()}`;
    const [a, b] = [streamingApp(replica()), streamingApp(replica())];
    const streams = [];
    for (const call of [a, b, a, b, a]) streams.push(await open(call, userId));
    for (const call of [a, b]) {
      const res = await call('/api/v1/notifications/stream', {
        headers: { authorization: `Bearer ${await tokens.issue(userId)}` },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({
        status: 429,
        type: 'urn:shop:problem:rate-limited',
      });
    }
    // Another user still gets one; and a closed stream gives its slot back.
    await (await open(a, `u-${randomUUID()}`)).close();
    await streams[0]?.close();
    const reopened = await pollUntil(
      async () => {
        const res = await b('/api/v1/notifications/stream', {
          headers: { authorization: `Bearer ${await tokens.issue(userId)}` },
        });
        if (res.status === 200) return res;
        await res.body?.cancel();
        return undefined;
      },
      { what: 'the freed slot to open a stream again', timeoutMs: 5_000, intervalMs: 50 },
    );
    await reopened.body?.cancel();
    for (const stream of streams.slice(1)) await stream.close();
  });

  it('refuses beyond the replica ceiling with 429', async () => {
    const call = streamingApp(replica(), { limits: limitsOf(1) });
    const first = await open(call, `u-${randomUUID()}`);
    const res = await call('/api/v1/notifications/stream', {
      headers: { authorization: `Bearer ${await tokens.issue(`u-${randomUUID()}`)}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    await first.close();
  });
}

function streamEndCases({ tokens, limitsOf, streamingApp, open }: Ctx) {
  it('ends the stream when its token expires, telling the client to reauthenticate', async () => {
    const token = await tokens.issue(`u-${randomUUID()}`);
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    // A clock 150 ms before the token's expiry: the stream has that long to live.
    const skew = (exp as number) * 1000 - 150 - Date.now();
    const call = streamingApp(replica(), { clock: () => new Date(Date.now() + skew) });
    const stream = await open(call, 'ignored', undefined, token);
    const last = await stream.nextEvent(5_000);
    expect(last).toMatchObject({ event: 'reauthenticate' });
    expect(JSON.parse(last.data)).toEqual({ reason: 'token_expired' });
    await stream.ended();
  });

  it('ends the streams of a signed-out session on the replica that holds them', async () => {
    const userId = `u-${randomUUID()}`;
    const limits = limitsOf();
    const call = streamingApp(replica(), { limits });
    const session = (sessionId: string) => tokens.issue(userId, 'customer', { sessionId });
    const signedOut = await open(call, userId, undefined, await session('s-out'));
    const other = await open(call, userId, undefined, await session('s-other'));
    // Recorded by whichever replica took the event; this one finds it when it renews.
    await recordSignOut(leaseStore, { userId, sessionId: 's-out' }, new Date());
    await limits.renew();
    const last = await signedOut.nextEvent(5_000);
    expect(last).toMatchObject({ event: 'reauthenticate' });
    expect(JSON.parse(last.data)).toEqual({ reason: 'signed_out' });
    await signedOut.ended();
    expect(await other.next()).toEqual({ kind: 'comment', text: 'heartbeat' });
    await other.close();
    // A token of the ended session opens no new stream.
    const res = await call('/api/v1/notifications/stream', {
      headers: { authorization: `Bearer ${await session('s-out')}` },
    });
    expect(res.status).toBe(401);
  });
}

function hubPollingCases() {
  it('gets what another replica stored by polling, each once, in seq order', async () => {
    const userId = `u-${randomUUID()}`;
    const [a, b] = [steppedReplica(), steppedReplica()];
    const received = collect();
    await a.subscribe({ userId, send: received.send });
    // Replica b stores three and pushes them to its own (empty) streams.
    for (const seq of [1, 2, 3]) b.push(await store(userId, seq));
    expect(received.seen).toEqual([]);
    await a.poll();
    expect(received.seen).toEqual([1, 2, 3]);
    await a.poll();
    expect(received.seen).toEqual([1, 2, 3]);
  });

  it('polls on its own every pollIntervalMs', async () => {
    const userId = `u-${randomUUID()}`;
    const hub = replica({ pollIntervalMs: 20 });
    const received = collect();
    await hub.subscribe({ userId, send: received.send });
    await store(userId, 1);
    expect(await received.until(1)).toEqual([1]);
  });

  it('starts after the latest existing one, or after Last-Event-ID with nothing skipped or repeated', async () => {
    const userId = `u-${randomUUID()}`;
    for (const seq of [1, 2, 3, 4]) await store(userId, seq);
    const hub = steppedReplica();
    const live = collect();
    const resumed = collect();
    await hub.subscribe({ userId, send: live.send });
    await hub.subscribe({ userId, afterSeq: 2, send: resumed.send });
    const fifth = await store(userId, 5);
    // The fast path and the poll both see #5; it is still sent once.
    hub.push(fifth);
    expect(live.seen).toEqual([5]);
    await hub.poll();
    expect(live.seen).toEqual([5]);
    expect(resumed.seen).toEqual([3, 4, 5]);
  });
}

function hubOrderingCases() {
  it('holds back a seq above a missing one until the missing one appears', async () => {
    const userId = `u-${randomUUID()}`;
    const hub = steppedReplica(5_000);
    const received = collect();
    await hub.subscribe({ userId, afterSeq: 0, send: received.send });
    // #2 becomes visible before #1 (two replicas inserting at once).
    hub.push(await store(userId, 2));
    await hub.poll();
    hub.advance(4_999);
    await hub.poll();
    expect(received.seen).toEqual([]);
    await store(userId, 1);
    await hub.poll();
    expect(received.seen).toEqual([1, 2]);
  });

  it('moves past a seq that never appears once gapWaitMs has passed', async () => {
    const userId = `u-${randomUUID()}`;
    const hub = steppedReplica(300);
    const received = collect();
    await hub.subscribe({ userId, afterSeq: 0, send: received.send });
    await store(userId, 2);
    await store(userId, 3);
    await hub.poll();
    expect(received.seen).toEqual([]);
    hub.advance(300);
    await hub.poll();
    expect(received.seen).toEqual([2, 3]);
    // Too late: the stream has moved on (the inbox still lists it).
    await store(userId, 1);
    hub.advance(300);
    await hub.poll();
    expect(received.seen).toEqual([2, 3]);
  });

  it("sends each push that follows the last one sent at once, a user's seqs in order, with no poll", async () => {
    const userId = `u-${randomUUID()}`;
    const hub = steppedReplica(5_000);
    const received = collect();
    await hub.subscribe({ userId, afterSeq: 0, send: received.send });
    hub.push(notification(userId, 1));
    expect(received.seen).toEqual([1]);
    // #3 before #2 (two replicas inserting for the user at once): #3 waits for #2 only.
    hub.push(notification(userId, 3));
    expect(received.seen).toEqual([1]);
    hub.push(notification(userId, 2));
    expect(received.seen).toEqual([1, 2, 3]);
    // The same notification again (its own insert, then the broadcast) is not sent twice.
    hub.push(notification(userId, 3));
    expect(received.seen).toEqual([1, 2, 3]);
  });

  it('catches a resumed stream up at once, not at the next poll', async () => {
    const userId = `u-${randomUUID()}`;
    for (const seq of [1, 2, 3]) await store(userId, seq);
    const hub = replica({ pollIntervalMs: 3_600_000 });
    const received = collect();
    await hub.subscribe({ userId, afterSeq: 1, send: received.send });
    expect(await received.until(2)).toEqual([2, 3]);
  });

  it('sends the seqs of documents stored before seqs were per user (gaps between) in order, a late lower one first', async () => {
    const userId = `u-${randomUUID()}`;
    const [a, b] = [steppedReplica(400), steppedReplica(400)];
    const received = collect();
    await a.subscribe({ userId, afterSeq: 0, send: received.send });
    // Replica b took seq 15 before a took 20, but a's insert became visible first.
    a.push(await store(userId, 20));
    a.advance(100);
    b.push(await store(userId, 15));
    a.push(await store(userId, 30));
    await a.poll();
    expect(received.seen).toEqual([]);
    // #20 has now waited gapWaitMs, but #15, first seen by that poll, holds it back.
    a.advance(300);
    await a.poll();
    expect(received.seen).toEqual([]);
    a.advance(100);
    await a.poll();
    expect(received.seen).toEqual([15, 20, 30]);
    a.advance(1_000);
    await a.poll();
    expect(received.seen).toEqual([15, 20, 30]);
  });
}

function hubLoadAndCloseCases() {
  it('asks the store once per poll for every stream of the replica, and once for streams opened together', async () => {
    const users = Array.from({ length: 50 }, () => `u-${randomUUID()}`);
    await Promise.all(users.slice(0, 10).map((userId) => store(userId, 1)));
    const hub = steppedReplica();
    const streams = users.map((userId) => ({ userId, ...collect() }));
    startQueries = 0;
    await Promise.all(streams.map(({ userId, send }) => hub.subscribe({ userId, send })));
    expect(hub.size()).toBe(50);
    // The first asks alone; every other open waited for it and went in one more query.
    expect(startQueries).toBeLessThanOrEqual(2);
    queries = [];
    await Promise.all(users.map((userId, i) => store(userId, i < 10 ? 2 : 1)));
    await hub.poll();
    for (const [i, stream] of streams.entries()) expect(stream.seen).toEqual([i < 10 ? 2 : 1]);
    expect(queries).toEqual([50]);
  });

  it('ends every stream when it closes, and no longer polls', async () => {
    const hub = replica();
    const subscription = await hub.subscribe({ userId: 'u-close', send: () => {} });
    hub.close();
    await subscription.closed;
    expect(hub.size()).toBe(0);
  });
}

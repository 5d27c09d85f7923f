import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import { eventFixture, readEventStream, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The live stream through the real gateway, both sidecars and Dapr service invocation:
// events arrive while the response is still open, however long it has been open.
let shop: TestShop;
const password = 'correct horse battery';

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users', 'notifications'],
    appEnv: {
      notifications: {
        STREAM_POLL_INTERVAL_MS: '100',
        STREAM_HEARTBEAT_MS: '1000',
        // A sign-out reaches every replica's streams within one renewal.
        STREAM_LEASE_RENEW_MS: '500',
      },
    },
  });
});

afterAll(async () => {
  await shop?.stop();
});

async function newUser(): Promise<{ userId: string; token: string; refreshToken: string }> {
  const email = `stream-${randomUUID()}@example.com`;
  const res = await shop.send('POST', '/api/v1/auth/register', {
    body: { email, password, name: 'Stream E2E' },
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const login = await shop.send('POST', '/api/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  const tokens = (await login.json()) as { accessToken: string; refreshToken: string };
  return { userId: id, token: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** A stream request as openStream sends it, answered as it comes (any status). */
function requestStream(token: string) {
  return shop.gateway('/api/v1/notifications/stream', {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(120_000),
  });
}

async function openStream(token: string, lastEventId?: string) {
  const res = await shop.gateway('/api/v1/notifications/stream', {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
    // Open for as long as the test reads it (TestShop's default would abort it at 20 s).
    signal: AbortSignal.timeout(120_000),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const stream = readEventStream(res);
  expect(await stream.next()).toEqual({ kind: 'comment', text: 'subscribed' });
  return stream;
}

function orderConfirmed(userId: string) {
  return eventFixture('order.confirmed', {
    orderId: randomUUID(),
    userId,
    total: 1250,
  });
}

describe('GET /api/v1/notifications/stream through the gateway', () => {
  it('streams a notification while the response stays open, then the next one', async () => {
    const { userId, token } = await newUser();
    // From the start: the welcome notification, whenever its event got through.
    const stream = await openStream(token, '0');
    const welcome = await stream.nextEvent(20_000);
    expect(welcome).toMatchObject({ id: expect.stringMatching(/^\d+$/), event: 'notification' });
    expect(JSON.parse(welcome.data)).toMatchObject({ type: 'welcome', readAt: null });
    await shop.publish(orderConfirmed(userId), 'notifications');
    const confirmed = await stream.nextEvent(20_000);
    // Each user's seqs are their own sequence: the next one follows with no gap.
    expect(Number(confirmed.id)).toBe(Number(welcome.id) + 1);
    expect(JSON.parse(confirmed.data)).toMatchObject({
      type: 'order_confirmed',
      title: 'Order confirmed',
    });
    await stream.close();
  });

  it('resumes after Last-Event-ID with no gap and no duplicate', async () => {
    const { userId, token } = await newUser();
    const first = await openStream(token, '0');
    const welcome = await first.nextEvent(20_000);
    await first.close();
    await shop.publish(orderConfirmed(userId), 'notifications');
    await shop.publish(orderConfirmed(userId), 'notifications');
    const resumed = await openStream(token, welcome.id);
    const missed = [await resumed.nextEvent(20_000), await resumed.nextEvent(20_000)];
    await shop.publish(orderConfirmed(userId), 'notifications');
    const live = await resumed.nextEvent(20_000);
    await resumed.close();
    const streamed = [welcome, ...missed, live].map((e) => ({
      seq: Number(e.id),
      id: (JSON.parse(e.data) as { id: string }).id,
    }));
    // In seq order, and exactly the user's notifications: none skipped, none twice.
    expect(streamed.map((n) => n.seq)).toEqual(
      [...streamed.map((n) => n.seq)].sort((x, y) => x - y),
    );
    const inbox = (await (await shop.send('GET', '/api/v1/notifications', { token })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(streamed.map((n) => n.id).sort()).toEqual(inbox.items.map((n) => n.id).sort());
    expect(new Set(streamed.map((n) => n.id)).size).toBe(4);
  });

  it('outlives the 10 s invoke timeout of components/common/resiliency.yaml, with heartbeats', async () => {
    const { userId, token } = await newUser();
    const stream = await openStream(token);
    const started = Date.now();
    let heartbeats = 0;
    while (Date.now() - started < 12_000) {
      const item = await stream.next(5_000);
      expect(item.kind).toBe('comment');
      heartbeats++;
    }
    expect(heartbeats).toBeGreaterThanOrEqual(5);
    await shop.publish(orderConfirmed(userId), 'notifications');
    expect((await stream.nextEvent(20_000)).event).toBe('notification');
    await stream.close();
  }, 60_000);

  it('ends open streams cleanly when notifications shuts down', async () => {
    const { token } = await newUser();
    const stream = await openStream(token);
    const app = shop.apps.notifications;
    if (!app?.processName) throw new Error('no notifications process');
    // SIGTERM: the service ends its streams before it drains, not at its timeout.
    const stopped = shop.group.stop(app.processName, { signal: 'SIGTERM', graceMs: 20_000 });
    await stream.ended(8_000);
    await stopped;
    const log = shop.log('notifications');
    expect(log).toContain('"msg":"stopped"');
    expect(log).not.toContain('shutdown timed out');
    await shop.restart('notifications');
  }, 60_000);

  it('refuses a sixth open stream of one user with 429 and Retry-After, and serves another user meanwhile', async () => {
    const { token } = await newUser();
    const streams = [];
    for (let i = 0; i < 5; i++) streams.push(await openStream(token));
    const refused = await requestStream(token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429 });
    const other = await openStream((await newUser()).token);
    await other.close();
    // A closed stream gives its slot back (once notifications notices the client left).
    await streams.pop()?.close();
    const reopened = await pollUntil(
      async () => {
        const res = await requestStream(token);
        if (res.status === 200) return res;
        await res.body?.cancel();
        return undefined;
      },
      { timeoutMs: 20_000, what: 'a stream slot given back' },
    );
    await reopened.body?.cancel();
    for (const stream of streams) await stream.close();
  }, 60_000);

  it('ends the stream of a session when its user logs out, telling the client to sign in again', async () => {
    const { token, refreshToken } = await newUser();
    const stream = await openStream(token);
    const logout = await shop.send('POST', '/api/v1/auth/logout', {
      token,
      body: { refreshToken },
    });
    expect(logout.status).toBe(204);
    const last = await stream.nextEvent(20_000);
    expect(last.event).toBe('reauthenticate');
    expect(JSON.parse(last.data)).toEqual({ reason: 'signed_out' });
    await stream.ended(5_000);
  }, 60_000);
});

describe('two notifications replicas, polling only once an hour', () => {
  // A fresh shop: only the broadcast (components/<profile>/stream-broadcast.yaml) can bring a
  // notification stored by one replica to a stream held by the other this side of an hour.
  let pair: TestShop;
  beforeAll(async () => {
    // Not two shops at once on two cores: the one above is done with.
    await shop?.stop();
    pair = await startTestShop({
      apps: ['gateway', 'users', 'notifications'],
      replicas: { notifications: 2 },
      // Room for enough streams that both replicas hold one: the sidecar picks a replica at
      // random per call, so five streams all land on one replica one run in sixteen.
      appEnv: { notifications: { STREAM_POLL_INTERVAL_MS: '3600000', STREAM_MAX_PER_USER: '20' } },
    });
    shop = pair;
  }, 180_000);

  /** Open streams on each replica, from its metrics. */
  async function openStreamsByReplica(): Promise<number[]> {
    return Promise.all(
      ['notifications', 'notifications-2'].map(async (name) => {
        const app = pair.apps[name];
        if (!app) throw new Error(`${name} is not running`);
        const text = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
        return Number(
          /^notifications_open_streams(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN,
        );
      }),
    );
  }

  it('brings a notification stored by one replica to a stream held by the other at once', async () => {
    const { userId, token } = await newUser();
    // Streams until both replicas hold one (the gateway's calls spread over them).
    const streams = [];
    for (let i = 0; i < 20; i++) {
      streams.push(await openStream(token));
      const [first, second] = await openStreamsByReplica();
      if ((first ?? 0) > 0 && (second ?? 0) > 0) break;
    }
    const [first, second] = await openStreamsByReplica();
    expect((first ?? 0) > 0 && (second ?? 0) > 0, `streams by replica: ${first}, ${second}`).toBe(
      true,
    );
    // The welcome may have been stored before the streams opened; the order's comes after.
    await pair.publish(orderConfirmed(userId), 'notifications');
    for (const stream of streams) {
      let event = await stream.nextEvent(20_000);
      if (JSON.parse(event.data).type === 'welcome') event = await stream.nextEvent(20_000);
      expect(JSON.parse(event.data)).toMatchObject({ type: 'order_confirmed' });
    }
    for (const stream of streams) await stream.close();
  }, 90_000);
});

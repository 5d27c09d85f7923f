import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { freePorts, pollUntil } from '@shop/devkit/process';
import {
  openTestDatabase,
  startTestShop,
  type TestDatabase,
  type TestShop,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDeadLetterStore } from '../db/dead-letters.ts';
import type { PlatformTables } from '../db/platform-tables.ts';
import { createServiceApp } from '../http/app.ts';
import { createLogger } from '../logger.ts';
import { buildEvent } from './cloud-event.ts';
import {
  createEventConsumer,
  type DeadLetterStore,
  type Delivery,
  defineConsumer,
} from './consumer.ts';

// A probe app in this process, beside a real daprd and a real Redis, keeping its dead
// letters in a real PostgreSQL: its answers are scripted per event, so the test sees
// exactly what Dapr does with SUCCESS, RETRY and DROP under the shop's own resiliency
// policy and subscription files.
const subscriptions = `
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: probe-user-registered
spec:
  pubsubname: pubsub
  topic: user.registered
  routes:
    default: /events/user.registered
  deadLetterTopic: deadletter.probe
scopes: [probe]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: probe-deadletter
spec:
  pubsubname: pubsub
  topic: deadletter.probe
  routes:
    default: /dead-letters
scopes: [probe]
`;

let shop: TestShop;
let server: ServerType;
let port: number;
let resourcesDir: string;
let database: TestDatabase<PlatformTables>;
let deadLetters: DeadLetterStore;
let appApiToken = 'not-yet-known-0000000000';
const deliveries = new Map<string, number>();
const script = new Map<string, Delivery[]>();

function registered(userId: string) {
  return buildEvent(
    'user.registered',
    {
      userId,
      email: `${userId}@example.com`,
      name: userId,
      registeredAt: new Date().toISOString(),
    },
    { source: 'test' },
  );
}

/** Serves the probe app on `port`, as a freshly started process would: nothing in memory. */
function startProbe(): ServerType {
  const logger = createLogger({ service: 'probe', write: () => {} });
  deadLetters = sqlDeadLetterStore(database.database.db);
  const app = createServiceApp({
    service: 'probe',
    logger,
    get appApiToken() {
      return appApiToken;
    },
  });
  app.route(
    '/',
    createEventConsumer({
      appId: 'probe',
      logger,
      deadLetters,
      definition: defineConsumer({
        consumes: { 'user.registered': [1] },
        handlers: {
          'user.registered': async (event) => {
            deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
            return script.get(event.id)?.shift() ?? 'SUCCESS';
          },
        },
      }),
    }),
  );
  return serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
}

beforeAll(async () => {
  resourcesDir = mkdtempSync(join(tmpdir(), 'probe-resources-'));
  writeFileSync(join(resourcesDir, 'subscriptions.yaml'), subscriptions);
  database = await openTestDatabase<PlatformTables>('postgres');
  [port] = (await freePorts(1)) as [number];
  server = startProbe();
  shop = await startTestShop({
    apps: [],
    sidecarsOnly: [{ appId: 'probe', appPort: port }],
    extraResourcesPaths: [resourcesDir],
  });
  appApiToken = shop.apps.probe?.appApiToken as string;
});

afterAll(async () => {
  await shop?.stop();
  server?.close();
  await database?.close();
  rmSync(resourcesDir, { recursive: true, force: true });
});

describe('event delivery through a real daprd and Redis Streams', () => {
  it('delivers a published event once', async () => {
    const event = registered('once');
    await shop.publish(event, 'probe');
    await pollUntil(async () => (deliveries.get(event.id) === 1 ? true : undefined), {
      what: 'the first delivery of the event',
      timeoutMs: 20_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(deliveries.get(event.id)).toBe(1);
  });

  it('redelivers the same event to a consumer that answers RETRY', async () => {
    const event = registered('retry');
    script.set(event.id, ['RETRY', 'RETRY', 'SUCCESS']);
    await shop.publish(event, 'probe');
    await pollUntil(async () => (deliveries.get(event.id) === 3 ? true : undefined), {
      what: 'the third delivery of the retried event',
      timeoutMs: 20_000,
    });
    expect(await deadLetters.get(event.id)).toBeUndefined();
  });

  it('moves an event that keeps failing to the dead-letter topic, where it can be replayed after a restart', async () => {
    const event = registered('poison');
    script.set(event.id, Array(20).fill('RETRY'));
    await shop.publish(event, 'probe');
    const letter = await pollUntil(() => deadLetters.get(event.id), {
      what: 'the poison event in the dead-letter store',
      timeoutMs: 120_000,
    });
    // The first delivery plus the eight retries of the `delivery` policy in resiliency.yaml.
    expect(deliveries.get(event.id)).toBe(9);
    expect(letter).toMatchObject({ id: event.id, type: 'user.registered' });

    // The app restarts: the dead letter is still there for an operator, through the sidecar.
    await new Promise((resolve) => server.close(resolve));
    server = startProbe();
    const listed = await pollUntil(
      async () => {
        const res = await shop.invoke('probe', '/admin/dead-letters', { via: 'probe' });
        return res.ok ? ((await res.json()) as { items: Array<{ id: string }> }) : undefined;
      },
      { what: 'the restarted app to list its dead letters', timeoutMs: 20_000 },
    );
    expect(listed.items.map((item) => item.id)).toContain(event.id);

    script.set(event.id, ['SUCCESS']);
    const replay = await shop.invoke('probe', `/admin/dead-letters/${event.id}/replay`, {
      method: 'POST',
      via: 'probe',
    });
    expect(await replay.json()).toEqual({ id: event.id, delivery: 'SUCCESS' });
    expect(await deadLetters.get(event.id)).toBeUndefined();
    // About 25 s of retries (resiliency.yaml), then the replay.
  }, 150_000);

  it('dead-letters a payload that breaks its schema without retrying it', async () => {
    const event = { ...registered('broken'), data: { userId: 'broken' } };
    await shop.publish(event, 'probe');
    await pollUntil(() => deadLetters.get(event.id), {
      what: 'the undeliverable event in the dead-letter store',
      timeoutMs: 15_000,
    });
    expect(deliveries.get(event.id)).toBeUndefined();
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import {
  createMemoryDeadLetterStore,
  createServiceApp,
  defineConsumer,
  type EventType,
  type ShopEvent,
} from '@shop/platform';
import { freePorts } from '../process/ports.ts';
import { silentLogger } from './database.ts';
import type { TestShop } from './shop.ts';

export type EventProbe = {
  /** Every event the probe has received, in arrival order. */
  received: ShopEvent[];
  /** Spread into startTestShop's options: the probe's sidecar and its subscriptions. */
  shopOptions: {
    sidecarsOnly: Array<{ appId: string; appPort: number }>;
    extraResourcesPaths: string[];
  };
  /** Once the shop runs: lets the probe's sidecar in (it presents a token the shop made). */
  attach(shop: TestShop): void;
  stop(): void;
};

/**
 * An app in the test process, beside a sidecar of its own in the test shop, subscribed to
 * `topics`: it records what the services under test publish, through the real broker.
 *
 * @example
 * const probe = await startEventProbe(['stock.reserved', 'stock.rejected']);
 * const shop = await startTestShop({ apps: ['inventory'], ...probe.shopOptions });
 * probe.attach(shop);
 * await pollUntil(() => probe.received.find((e) => e.type === 'stock.reserved'), {
 *   what: 'stock.reserved', timeoutMs: 20_000,
 * });
 */
export async function startEventProbe(topics: readonly EventType[]): Promise<EventProbe> {
  const appId = 'probe';
  const received: ShopEvent[] = [];
  let appApiToken = 'not-yet-known-0000000000';
  const logger = silentLogger(appId);
  const app = createServiceApp({
    service: appId,
    logger,
    get appApiToken() {
      return appApiToken;
    },
  });
  const record = async (event: ShopEvent) => {
    received.push(event);
    return 'SUCCESS' as const;
  };
  app.consumeEvents({
    definition: defineConsumer({
      consumes: Object.fromEntries(topics.map((topic) => [topic, [1]])),
      handlers: Object.fromEntries(topics.map((topic) => [topic, record])),
    } as unknown as Parameters<typeof defineConsumer>[0]),
    deadLetters: createMemoryDeadLetterStore(),
  });

  const resourcesDir = mkdtempSync(join(tmpdir(), 'event-probe-'));
  const subscription = (topic: string) => `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: ${appId}-${topic.replaceAll('.', '-')}
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes:
    default: /events/${topic}
scopes: [${appId}]
`;
  writeFileSync(join(resourcesDir, 'subscriptions.yaml'), topics.map(subscription).join('---\n'));
  const [port] = (await freePorts(1)) as [number];
  const server: ServerType = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });

  return {
    received,
    shopOptions: { sidecarsOnly: [{ appId, appPort: port }], extraResourcesPaths: [resourcesDir] },
    attach(shop) {
      const token = shop.apps[appId]?.appApiToken;
      if (!token) throw new Error('the test shop runs no sidecar for the probe');
      appApiToken = token;
    },
    stop() {
      server.close();
      rmSync(resourcesDir, { recursive: true, force: true });
    },
  };
}

// The topic scopes of each broker profile's component, enforced by real sidecars on the
// real broker: sidecars under the shop's app ids (their apps stand-ins in this process) publish
// what they own and are refused the rest, and subscribe only to what they consume.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerProfiles } from '../brokers/index.ts';
import { pollUntil } from '../process/poll.ts';
import { freePorts } from '../process/ports.ts';
import { startTestShop, type TestShop } from '../testing/shop.ts';

const apps = ['payments', 'orders', 'catalog'] as const;
let shop: TestShop;
let resourcesDir: string;

// catalog consumes stock.changed only; this asks its sidecar for payment.succeeded too.
const unscopedSubscription = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: catalog-payment-succeeded
spec:
  pubsubname: pubsub
  topic: payment.succeeded
  routes:
    default: /events/payment.succeeded
scopes: [catalog]
`;

/** Event ids each stand-in app was handed at its dead-letter route. */
const deadLettered = new Map<string, string[]>();

/**
 * An app that takes every delivery, so its sidecar starts and subscribes, but drops
 * payment.failed, so its sidecar dead-letters that (publishing as this app).
 */
function stubApp(appId: string, port: number): Server {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url === '/dead-letters') {
      const { id } = JSON.parse(body) as { id: string };
      deadLettered.set(appId, [...(deadLettered.get(appId) ?? []), id]);
    }
    const status = req.url === '/events/payment.failed' ? 'DROP' : 'SUCCESS';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status }));
  });
  server.listen(port, '127.0.0.1');
  return server;
}

function event(type: string) {
  const id = crypto.randomUUID();
  return { specversion: '1.0', id, type, source: 'scopes-test', data: {} };
}

/** The status of a publish of `sent` (or a new event of that type) through `via`'s sidecar. */
async function publishStatus(
  sent: string | ReturnType<typeof event>,
  via: string,
): Promise<number> {
  const app = shop.apps[via];
  if (!app) throw new Error(`${via} runs no sidecar here`);
  const body = typeof sent === 'string' ? event(sent) : sent;
  const res = await fetch(`http://127.0.0.1:${app.daprHttpPort}/v1.0/publish/pubsub/${body.type}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      'dapr-api-token': app.daprApiToken,
    },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

/** The consumer groups of a Redis stream (a subscribing app's id each); none without it. */
function consumerGroups(stream: string): string[] {
  const result = spawnSync(
    'redis-cli',
    ['-p', String(shop.redis.port), '--no-auth-warning', 'XINFO', 'GROUPS', stream],
    {
      encoding: 'utf8',
      env: { ...process.env, ...(shop.redis.password && { REDISCLI_AUTH: shop.redis.password }) },
    },
  );
  const lines = result.stdout.split('\n').map((line) => line.trim());
  return lines.flatMap((line, i) => {
    const next = lines[i + 1];
    return line === 'name' && next ? [next] : [];
  });
}

// Every broker profile loads its own component file, each with the generated scopes.
describe.each(brokerProfiles)('topic scopes on %s', (broker) => {
  const servers: Server[] = [];
  beforeAll(async () => {
    resourcesDir = mkdtempSync(join(tmpdir(), 'topic-scopes-'));
    writeFileSync(join(resourcesDir, 'subscription.yaml'), unscopedSubscription);
    const ports = await freePorts(apps.length);
    servers.push(...apps.map((appId, i) => stubApp(appId, ports[i] as number)));
    shop = await startTestShop({
      apps: [],
      broker,
      sidecarsOnly: apps.map((appId, i) => ({ appId, appPort: ports[i] as number })),
      extraResourcesPaths: [resourcesDir],
      openTopics: false,
      checkOpenApi: false,
    });
  }, 300_000);

  afterAll(async () => {
    await shop?.stop();
    for (const server of servers) server.close();
    rmSync(resourcesDir, { recursive: true, force: true });
  });

  it("let only a topic's owner publish it", async () => {
    expect(await publishStatus('payment.succeeded', 'payments')).toBe(204);
    expect(await publishStatus('payment.succeeded', 'orders')).toBe(403);
    expect(await publishStatus('payment.refunded', 'catalog')).toBe(403);
    expect(await publishStatus('order.created', 'orders')).toBe(204);
    expect(await publishStatus('order.created', 'payments')).toBe(403);
    expect(await publishStatus('product.updated', 'catalog')).toBe(204);
  });

  it("let each consumer's sidecar publish its own dead letters, and no one else's", async () => {
    expect(await publishStatus('deadletter.orders', 'orders')).toBe(204);
    expect(await publishStatus('deadletter.orders', 'payments')).toBe(403);
  });

  it("carry a consumer's dropped event through its own dead-letter topic", async () => {
    const failed = event('payment.failed');
    expect(await publishStatus(failed, 'payments')).toBe(204);
    // orders drops it; its sidecar publishes it to deadletter.orders as orders, and
    // orders' own subscription hands it back at /dead-letters.
    await pollUntil(
      async () => (deadLettered.get('orders')?.includes(failed.id) ? true : undefined),
      { what: 'the failed event on the orders dead-letter topic', timeoutMs: 20_000 },
    );
  });

  it('refuse topics the shop does not have', async () => {
    expect(await publishStatus('payment.forged', 'payments')).toBe(403);
  });

  // Redis shows each subscribing app as a consumer group of the stream; the other brokers
  // show nothing comparable, so the case exists on redis only (not a skipped test elsewhere).
  if (broker !== 'redis') return;
  it('let an app subscribe only to what it consumes', async () => {
    // orders consumes payment.succeeded: its group appears once its sidecar subscribed,
    // in the same pass that refused catalog's subscription to the topic.
    await pollUntil(
      async () => (consumerGroups('payment.succeeded').includes('orders') ? true : undefined),
      { what: 'the orders consumer group on payment.succeeded', timeoutMs: 20_000 },
    );
    await pollUntil(
      async () => (consumerGroups('stock.changed').includes('catalog') ? true : undefined),
      { what: 'the catalog consumer group on stock.changed', timeoutMs: 20_000 },
    );
    expect(consumerGroups('payment.succeeded')).not.toContain('catalog');
  });
});

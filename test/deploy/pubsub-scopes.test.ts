// The topic scopes in every broker profile's pubsub component are generated from the event
// catalogue and the services' declared consumers; this fails when they disagree (run
// `npm run pubsub-scopes`), and holds each catalogued producer to the code that publishes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  declaredConsumers,
  pubsubFiles,
  renderPubsubFiles,
  scopesBlock,
  topicScopes,
  withScopes,
} from '@shop/devkit/manifests';
import { findRepoRoot } from '@shop/devkit/process';
import { eventCatalog } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repoRoot = findRepoRoot(import.meta.dirname);

type Component = { spec: { metadata: { name: string; value?: string }[] } };

function scopeEntries(path: string): Record<string, string> {
  const component = parse(readFileSync(join(repoRoot, path), 'utf8')) as Component;
  const names = ['allowedTopics', 'protectedTopics', 'publishingScopes', 'subscriptionScopes'];
  return Object.fromEntries(
    component.spec.metadata
      .filter((entry) => names.includes(entry.name))
      .map((entry) => [entry.name, entry.value ?? '']),
  );
}

/** Dapr's "app=topic,topic;app=..." as a map. */
function parseScopes(value: string): Map<string, string[]> {
  return new Map(
    value.split(';').map((entry) => {
      const [app = '', topics = ''] = entry.split('=');
      return [app, topics.split(',')];
    }),
  );
}

/** Every `buildEvent('<type>'` in a service's own sources: the types it publishes. */
function publishedInCode(): Map<string, string[]> {
  const published = new Map<string, string[]>();
  const walk = (app: string, dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(app, path);
      else if (/(?<!\.test)\.ts$/.test(entry.name) && entry.name !== 'test-support.ts') {
        const text = readFileSync(path, 'utf8');
        for (const [, type] of text.matchAll(/\bbuildEvent\(\s*'([a-z._]+)'/g))
          published.set(type as string, [...(published.get(type as string) ?? []), app]);
      }
    }
  };
  for (const app of readdirSync(join(repoRoot, 'services'))) {
    walk(app, join(repoRoot, 'services', app, 'src'));
  }
  return published;
}

describe('pubsub topic scopes', () => {
  it('are in every broker profile, as the catalogue and the consumers make them', async () => {
    const generated = await renderPubsubFiles(repoRoot);
    for (const path of pubsubFiles) {
      expect(readFileSync(join(repoRoot, path), 'utf8'), path).toBe(generated.get(path));
      expect(scopeEntries(path), path).toEqual(scopeEntries(pubsubFiles[0]));
    }
  });

  it("name each type's producer alone as its publisher, and each consumer as its reader", async () => {
    const entries = scopeEntries('components/redis/pubsub.yaml');
    const publishing = parseScopes(entries.publishingScopes ?? '');
    const subscription = parseScopes(entries.subscriptionScopes ?? '');
    const consumers = await declaredConsumers(repoRoot);
    for (const [type, { producer }] of Object.entries(eventCatalog)) {
      const publishers = [...publishing].filter(([, topics]) => topics.includes(type));
      expect(
        publishers.map(([app]) => app),
        type,
      ).toEqual([producer]);
      const readers = [...subscription].filter(([, topics]) => topics.includes(type));
      const expected = [...consumers].filter(([, types]) => types.includes(type));
      expect(readers.map(([app]) => app).sort(), type).toEqual(expected.map(([app]) => app).sort());
    }
    expect(publishing.get('payments')?.filter((t) => t.startsWith('payment.'))).toEqual([
      'payment.failed',
      'payment.refunded',
      'payment.succeeded',
    ]);
    // Nothing else exists, and every topic needs a scope (an app not named gets none).
    expect(entries.allowedTopics).toBe(entries.protectedTopics);
    // The gateway publishes no event of its own: only its sidecar's dead letters.
    expect(publishing.get('gateway')).toEqual(['deadletter.gateway']);
  });

  it('match the producers the services really have: each type built by its producer alone', () => {
    const published = publishedInCode();
    // The code reads as expected at all.
    expect(published.size).toBeGreaterThanOrEqual(10);
    for (const [type, apps] of published) {
      expect(Object.hasOwn(eventCatalog, type), `${type} is not in the catalogue`).toBe(true);
      const producer = eventCatalog[type as keyof typeof eventCatalog].producer;
      expect([...new Set(apps)], `${type} is built outside its producer`).toEqual([producer]);
    }
  });

  it('give each consumer its dead-letter topic to publish (daprd does, as that app) and read', () => {
    const scopes = topicScopes(
      { 'user.registered': { producer: 'users' }, 'order.created': { producer: 'orders' } },
      new Map([['mailer', ['user.registered']]]),
    );
    expect(Object.fromEntries(scopes.publishing)).toEqual({
      users: ['user.registered'],
      orders: ['order.created'],
      mailer: ['deadletter.mailer'],
    });
    expect(Object.fromEntries(scopes.subscription)).toEqual({
      mailer: ['deadletter.mailer', 'user.registered'],
    });
    expect(scopes.topics).toEqual(['deadletter.mailer', 'order.created', 'user.registered']);
    expect(() => topicScopes({ 'user.registered': {} }, new Map())).toThrow(
      'names no producer of user.registered',
    );
  });

  it('replace the generated block in place and append it to a file without one', () => {
    const scopes = topicScopes({ 'a.b': { producer: 'x' } }, new Map());
    const block = scopesBlock(scopes);
    const file = 'spec:\n  metadata:\n    - name: one\n      value: "1"\n';
    const once = withScopes(file, block);
    expect(once).toBe(file + block);
    const other = scopesBlock(topicScopes({ 'c.d': { producer: 'y' } }, new Map()));
    expect(withScopes(`${once}# after\n`, other)).toBe(`${file}${other}# after\n`);
  });
});

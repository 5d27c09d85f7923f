import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventCatalog } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { findRepoRoot } from '../process/repo-root.ts';
import { loadManifest } from '../shop/manifest.ts';
import { brokerFromEnv, profileResourcesPaths, stateStoreFromEnv } from '../shop/plan.ts';
import { brokerProfiles, shopTopics } from './index.ts';

const repoRoot = findRepoRoot(import.meta.dirname);
const components = join(repoRoot, 'components');

describe('broker and state store profiles', () => {
  it('swap dapr.yaml’s redis folders for the chosen profiles and keep the rest', () => {
    const paths = loadManifest(repoRoot).resourcesPaths;
    expect(paths).toEqual([
      join(components, 'common'),
      join(components, 'redis'),
      join(components, 'statestore/redis'),
      join(components, 'local'),
    ]);
    expect(profileResourcesPaths(paths, 'kafka', 'postgresql')).toEqual([
      join(components, 'common'),
      join(components, 'kafka'),
      join(components, 'statestore/postgresql'),
      join(components, 'local'),
    ]);
    expect(profileResourcesPaths(paths, 'redis', 'redis')).toEqual(paths);
  });

  it('are read from SHOP_BROKER and SHOP_STATE_STORE, redis when unset, and refuse others', () => {
    expect(brokerFromEnv({})).toBe('redis');
    expect(brokerFromEnv({ SHOP_BROKER: 'nats' })).toBe('nats');
    expect(() => brokerFromEnv({ SHOP_BROKER: 'mqtt' })).toThrow(
      'SHOP_BROKER=mqtt: choose one of redis, rabbitmq, kafka, nats',
    );
    expect(stateStoreFromEnv({})).toBe('redis');
    expect(stateStoreFromEnv({ SHOP_STATE_STORE: 'postgresql' })).toBe('postgresql');
    expect(() => stateStoreFromEnv({ SHOP_STATE_STORE: 'memcached' })).toThrow(
      'SHOP_STATE_STORE=memcached',
    );
  });

  it('each have a folder of component YAML', () => {
    for (const profile of brokerProfiles) {
      expect(readdirSync(join(components, profile))).toContain('pubsub.yaml');
    }
  });

  it('know every topic: each event type and each consumer’s dead-letter topic', () => {
    const topics = shopTopics(repoRoot);
    for (const type of Object.keys(eventCatalog)) expect(topics).toContain(type);
    for (const app of ['catalog', 'inventory', 'orders', 'payments', 'notifications']) {
      expect(topics).toContain(`deadletter.${app}`);
    }
    expect(topics.every((topic) => /^[a-z][a-z0-9_.-]*$/.test(topic))).toBe(true);
  });
});

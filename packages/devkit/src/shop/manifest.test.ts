import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findRepoRoot } from '../process/repo-root.ts';
import { loadManifest } from './manifest.ts';

const repoRoot = findRepoRoot();
const manifest = loadManifest(repoRoot);
const resources = manifest.resourcesPaths.flatMap((dir) =>
  readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => ({
        file,
        ...doc.toJS(),
      })),
    ),
);

describe('dapr.yaml, the one list of apps', () => {
  it('names exactly the services in services/', () => {
    const services = readdirSync(join(repoRoot, 'services')).sort();
    expect(manifest.apps.map((app) => app.appId).sort()).toEqual(services);
    for (const app of manifest.apps) expect(app.dir).toBe(join(repoRoot, 'services', app.appId));
  });

  it('runs an entry point that exists in each app folder', () => {
    for (const app of manifest.apps) {
      // `node [--import <preload>] <entry>`: the entry point is the last argument.
      const entry = app.command.at(-1) as string;
      expect(existsSync(join(app.dir, entry)), `${app.appId}: ${entry}`).toBe(true);
    }
  });

  it('points at resource folders and a configuration that exist', () => {
    for (const path of [...manifest.resourcesPaths, manifest.configFile])
      expect(existsSync(path)).toBe(true);
  });
});

describe('Dapr resources', () => {
  it('are all valid Kubernetes-style objects with unique names per kind', () => {
    const seen = new Set<string>();
    for (const resource of resources) {
      expect(resource.apiVersion, resource.file).toMatch(/^dapr\.io\/v/);
      expect(['Component', 'Subscription', 'Resiliency']).toContain(resource.kind);
      expect(resource.metadata?.name, resource.file).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
      const key = `${resource.kind}/${resource.metadata.name}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });

  it('give every event subscription a dead-letter topic owned by the same app', () => {
    const subscriptions = resources.filter((r) => r.kind === 'Subscription');
    const topics = new Set(subscriptions.map((s) => `${s.scopes?.[0]}:${s.spec.topic}`));
    // The shop's events; the live streams' broadcast (components/<profile>/stream-broadcast.yaml) is
    // on a component of its own and is never retried.
    const events = subscriptions.filter((s) => s.spec.pubsubname === 'pubsub');
    for (const sub of events.filter((s) => !s.spec.topic.startsWith('deadletter.'))) {
      expect(sub.scopes, sub.metadata.name).toHaveLength(1);
      const [app] = sub.scopes;
      expect(sub.spec.routes.default).toBe(`/events/${sub.spec.topic}`);
      expect(sub.spec.deadLetterTopic).toBe(`deadletter.${app}`);
      expect(topics.has(`${app}:deadletter.${app}`), `${app} subscribes to its dead letters`).toBe(
        true,
      );
    }
  });

  it('name every app of dapr.yaml in the resiliency targets', () => {
    const resiliency = resources.find((r) => r.kind === 'Resiliency');
    for (const app of manifest.apps)
      expect(resiliency?.spec.targets.apps).toHaveProperty(app.appId);
  });
});

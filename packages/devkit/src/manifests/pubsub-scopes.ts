// The topic scopes at the end of every broker profile's pubsub component
// (components/<profile>/pubsub.yaml): only a topic's producer publishes it and only its
// consumers read it, on every profile and under `npm start` and the chart alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicScopesBegin as begin, topicScopesEnd as end } from '../shop/topic-scopes.ts';
import { loadManifests } from './load.ts';
import type { ServiceManifest } from './schema.ts';

export const pubsubFiles = [
  'components/redis/pubsub.yaml',
  'components/rabbitmq/pubsub.yaml',
  'components/kafka/pubsub.yaml',
  'components/nats/pubsub.yaml',
] as const;

/** Who may publish and who may subscribe to which topic: app id -> topics, sorted. */
export type TopicScopes = {
  topics: string[];
  publishing: Map<string, string[]>;
  subscription: Map<string, string[]>;
};

function addTopic(scopes: Map<string, string[]>, app: string, topic: string) {
  scopes.set(app, [...new Set([...(scopes.get(app) ?? []), topic])].sort());
}

/**
 * The scopes the catalogue and the consumers make: each event type is published by its
 * producer alone and read by the apps that consume it; each consumer publishes and reads
 * its own dead-letter topic (daprd publishes there on the consumer's behalf, under the
 * consumer's app id, when it gives up on an event).
 */
export function topicScopes(
  catalog: Readonly<Record<string, { readonly producer?: string }>>,
  consumers: ReadonlyMap<string, readonly string[]>,
): TopicScopes {
  const publishing = new Map<string, string[]>();
  const subscription = new Map<string, string[]>();
  for (const [type, entry] of Object.entries(catalog)) {
    if (!entry.producer) throw new Error(`the event catalogue names no producer of ${type}`);
    addTopic(publishing, entry.producer, type);
  }
  for (const [app, types] of consumers) {
    const deadLetters = `deadletter.${app}`;
    for (const type of types) addTopic(subscription, app, type);
    addTopic(subscription, app, deadLetters);
    addTopic(publishing, app, deadLetters);
  }
  const topics = [...new Set([...publishing.values(), ...subscription.values()].flat())].sort();
  return { topics, publishing, subscription };
}

/** Dapr's scope syntax: app=topic,topic;app=topic, apps in order. */
function scopeList(scopes: Map<string, string[]>): string {
  return [...scopes.keys()]
    .sort()
    .map((app) => `${app}=${(scopes.get(app) ?? []).join(',')}`)
    .join(';');
}

/** The metadata entries the scopes make, as the block that goes at the end of `metadata:`. */
export function scopesBlock(scopes: TopicScopes): string {
  const topics = scopes.topics.join(',');
  return `${[
    begin,
    '    # Only these topics exist for the apps (allowedTopics), and every one is protected: an',
    '    # app publishes or subscribes to it only where the scopes below name the app and the',
    "    # topic. From the services' manifests (services/*/service.json), which must agree with",
    "    # the event catalogue's producers and each service's src/events.ts; each consumer also",
    '    # owns its deadletter.<app>.',
    '    - name: allowedTopics',
    `      value: "${topics}"`,
    '    - name: protectedTopics',
    `      value: "${topics}"`,
    '    - name: publishingScopes',
    `      value: "${scopeList(scopes.publishing)}"`,
    '    - name: subscriptionScopes',
    `      value: "${scopeList(scopes.subscription)}"`,
    end,
  ].join('\n')}\n`;
}

/** A component file with its generated block replaced, or appended when it has none. */
export function withScopes(file: string, block: string): string {
  const from = file.indexOf(begin);
  if (from === -1) return `${file.endsWith('\n') ? file : `${file}\n`}${block}`;
  const to = file.indexOf(end, from);
  if (to === -1) throw new Error('the generated topic scopes have a beginning but no end');
  return file.slice(0, from) + block + file.slice(file.indexOf('\n', to) + 1);
}

/** Who publishes and who consumes which event type, as the manifests say. */
export function manifestScopes(manifests: readonly ServiceManifest[]): TopicScopes {
  const producers = Object.fromEntries(
    manifests.flatMap((m) => m.publishes.map((type) => [type, { producer: m.appId }])),
  );
  const consumers = new Map(
    manifests.filter((m) => m.subscribes.length > 0).map((m) => [m.appId, m.subscribes]),
  );
  return topicScopes(producers, consumers);
}

/** Each broker profile's pubsub file as the manifests make it: path -> text. */
export async function renderPubsubFiles(
  repoRoot: string,
  scopes: TopicScopes = manifestScopes(loadManifests(repoRoot)),
): Promise<Map<string, string>> {
  const block = scopesBlock(scopes);
  return new Map(
    pubsubFiles.map((path) => [
      path,
      withScopes(readFileSync(join(repoRoot, path), 'utf8'), block),
    ]),
  );
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventCatalog } from '@shop/platform';
import { parseAllDocuments } from 'yaml';
import type { RedisHandle } from '../infra/redis.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { prepareKafka, startKafka } from './kafka/kafka.ts';
import { prepareNats, startNats } from './nats/nats.ts';
import { prepareRabbitMQ, startRabbitMQ } from './rabbitmq/rabbitmq.ts';
import { redisBroker } from './redis/redis.ts';

/**
 * The pub/sub brokers the shop runs on, one folder of component YAML each
 * (components/<profile>/); the code is the same on all of them.
 */
export const brokerProfiles = ['redis', 'rabbitmq', 'kafka', 'nats'] as const;
export type BrokerProfile = (typeof brokerProfiles)[number];

export function isBrokerProfile(value: string): value is BrokerProfile {
  return (brokerProfiles as readonly string[]).includes(value);
}

/** What a broker's start function gets. */
export type BrokerStartOptions = {
  group: ProcessGroup;
  repoRoot: string;
  /** The broker's own folder (<dataDir>/<profile>): data, config, logs, HOME. */
  dir: string;
  /**
   * Every topic the shop publishes or subscribes to: each event type of the catalog and
   * each app's dead-letter topic. For brokers that must be told of them before the first
   * publish (JetStream streams, Kafka topics).
   */
  topics: string[];
  /** false for a throw-away shop (tests): the broker may skip fsync. */
  durable: boolean;
};

/** A broker running under the shop's process group. */
export type BrokerHandle = {
  profile: BrokerProfile;
  /** Environment for every sidecar: what components/<profile>/pubsub.yaml reads by envRef. */
  sidecarEnv: Record<string, string>;
  /** Its processes in the group (stopped after the sidecars, with the infrastructure). */
  processNames: string[];
  /** Kills every process of the broker at once (SIGKILL), as a crash or a lost host would. */
  kill(): Promise<void>;
  /**
   * Starts the broker again after kill(), on the same ports and the same data, and
   * resolves once it takes connections again with everything it needs in place.
   */
  restart(): Promise<void>;
  /** Process ids of its processes now (memory figures of the bench). */
  pids(): number[];
  /** Stops it cleanly and leaves nothing running (epmd included); the shop calls this last. */
  stop(): Promise<void>;
};

/**
 * Every topic of the shop: the event catalog's types and the dead-letter topics that
 * components/common/subscriptions.yaml names.
 */
export function shopTopics(repoRoot: string): string[] {
  const topics = new Set<string>(Object.keys(eventCatalog));
  const file = readFileSync(join(repoRoot, 'components/common/subscriptions.yaml'), 'utf8');
  for (const document of parseAllDocuments(file)) {
    const spec = (document.toJS() as { spec?: { topic?: string; deadLetterTopic?: string } })?.spec;
    if (spec?.topic) topics.add(spec.topic);
    if (spec?.deadLetterTopic) topics.add(spec.deadLetterTopic);
  }
  return [...topics].sort();
}

/** Starts the profile's broker (for redis: adopts the shop's Redis). */
export async function startBroker(
  profile: BrokerProfile,
  options: BrokerStartOptions & { redis: RedisHandle },
): Promise<BrokerHandle> {
  switch (profile) {
    case 'redis':
      return redisBroker(options.group, options.redis);
    case 'rabbitmq':
      return startRabbitMQ(options);
    case 'kafka':
      return startKafka(options);
    case 'nats':
      return startNats(options);
  }
}

/**
 * Installs, builds or resolves what every broker profile needs, once (npm test's setup):
 * the version each profile will run.
 */
export function prepareBrokers(repoRoot: string): Record<Exclude<BrokerProfile, 'redis'>, string> {
  return {
    rabbitmq: prepareRabbitMQ(repoRoot),
    kafka: prepareKafka(repoRoot),
    nats: prepareNats(repoRoot),
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningAddresses } from '../../process/probes.ts';
import { findRepoRoot } from '../../process/repo-root.ts';
import type { BrokerHandle } from '../profiles.ts';
import {
  expectKillAndRestart,
  expectStopsCleanly,
  isolatedBroker,
} from '../testdata/isolated-broker.ts';
import { kafkaProcessName, partitionsPerTopic, startKafka, withKafkaAdmin } from './kafka.ts';

// The kafka profile's broker alone, in a ProcessGroup of its own: its topics exist with a
// leader on every partition before start returns, a kill -9 and a restart keep its data
// (same cluster, and a topic made before the kill is still there) on the same ports, and a
// stop leaves no process and no open port behind.
const topics = ['user.registered', 'order.created', 'deadletter.users'];

describe('the kafka broker profile (single-node KRaft)', () => {
  const scratch = isolatedBroker('kafka');
  const { dir, group } = scratch;
  let broker: BrokerHandle;
  let port: number;
  let controllerPort: number;

  beforeAll(async () => {
    broker = await startKafka({ group, repoRoot: findRepoRoot(), dir, topics, durable: false });
    port = Number(broker.sidecarEnv.KAFKA_BROKERS?.split(':')[1]);
    const properties = readFileSync(join(dir, 'server.properties'), 'utf8');
    controllerPort = Number(/CONTROLLER:\/\/127\.0\.0\.1:(\d+)/.exec(properties)?.[1]);
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    scratch.removeDir();
  });

  it('listens on loopback only and has every topic, each partition with a leader', async () => {
    expect(broker.processNames).toEqual([kafkaProcessName]);
    expect(broker.sidecarEnv).toEqual({
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      KAFKA_AUTH_TYPE: 'none',
      KAFKA_DISABLE_TLS: 'true',
    });
    expect(listeningAddresses(port)).toEqual(['127.0.0.1']);
    expect(listeningAddresses(controllerPort)).toEqual(['127.0.0.1']);
    // The client throws for a topic that does not exist or a partition with an error.
    const metadata = await withKafkaAdmin(port, (admin) => admin.metadata({ topics: [...topics] }));
    for (const name of topics) {
      const topic = metadata.topics.get(name);
      expect(topic?.partitionsCount).toBe(partitionsPerTopic);
      expect(topic?.partitions.map((partition) => partition.leader)).toEqual(
        Array(partitionsPerTopic).fill(1),
      );
    }
  });

  it('keeps its data through a kill -9 and a restart on the same ports and folder', async () => {
    const before = await withKafkaAdmin(port, async (admin) => {
      // A topic the supervisor does not create itself: only the broker's log can bring it back.
      const created = await admin.createTopics({ topics: ['kept.across.restart'], partitions: 2 });
      expect(created).toMatchObject([{ name: 'kept.across.restart', partitions: 2 }]);
      return admin.metadata({ topics: [] });
    });
    expect(before.id).toEqual(expect.any(String));
    await expectKillAndRestart(broker, port);
    const after = await withKafkaAdmin(port, (admin) =>
      admin.metadata({ topics: [...topics, 'kept.across.restart'] }),
    );
    expect(after.id).toBe(before.id);
    const partitions = Object.fromEntries(
      [...after.topics].map(([name, topic]) => [
        name,
        topic?.partitions.filter((p) => p.leader === 1),
      ]),
    );
    for (const topic of topics) expect(partitions[topic]).toHaveLength(partitionsPerTopic);
    expect(partitions['kept.across.restart']).toHaveLength(2);
  }, 40_000);

  it('stops cleanly and leaves neither a process nor an open port', async () => {
    await expectStopsCleanly(broker, scratch, [port, controllerPort]);
    expect(scratch.output()).toContain('Kafka Server started');
  }, 30_000);
});

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningAddresses } from '../../process/probes.ts';
import { findRepoRoot } from '../../process/repo-root.ts';
import type { BrokerHandle } from '../profiles.ts';
import {
  expectKillAndRestart,
  expectStopsCleanly,
  isolatedBroker,
} from '../testdata/isolated-broker.ts';
import { natsProcessName, startNats, streamNameOf } from './nats.ts';

// The nats profile's broker alone, in a ProcessGroup of its own: its streams exist before
// anyone publishes, an event stored before a kill -9 is there after the restart (same port,
// same store), and a stop leaves no process and no open port behind.
const topics = ['user.registered', 'order.created', 'deadletter.users'];

describe('the nats broker profile (nats-server with JetStream)', () => {
  const scratch = isolatedBroker('nats');
  const { dir, group } = scratch;
  let broker: BrokerHandle;
  let port: number;

  const withJetStream = async <T>(
    use: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>,
  ) => {
    const connection = await connect({ servers: broker.sidecarEnv.NATS_URL, reconnect: false });
    try {
      return await use(await jetstreamManager(connection));
    } finally {
      await connection.close();
    }
  };

  beforeAll(async () => {
    broker = await startNats({ group, repoRoot: findRepoRoot(), dir, topics, durable: false });
    port = Number(new URL(broker.sidecarEnv.NATS_URL ?? '').port);
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    scratch.removeDir();
  });

  it('listens on loopback only and has a file-backed stream holding exactly each topic', async () => {
    expect(broker.processNames).toEqual([natsProcessName]);
    expect(listeningAddresses(port)).toEqual(['127.0.0.1']);
    const streams = await withJetStream(async (jsm) => {
      const found: Array<{ name: string; subjects: string[]; storage: string }> = [];
      for await (const info of jsm.streams.list()) {
        const { name, subjects, storage } = info.config;
        found.push({ name, subjects, storage });
      }
      return found.sort((a, b) => a.name.localeCompare(b.name));
    });
    expect(streams).toEqual(
      [...topics].sort().map((topic) => ({
        name: streamNameOf(topic),
        subjects: [topic],
        storage: 'file',
      })),
    );
  });

  it('keeps what it stored through a kill -9 and a restart on the same port and store', async () => {
    await withJetStream(async (jsm) => {
      const ack = await jsm.jetstream().publish('user.registered', 'before', { msgID: 'event-1' });
      expect(ack).toMatchObject({ stream: 'user_registered', duplicate: false });
    });
    await expectKillAndRestart(broker, port);
    await withJetStream(async (jsm) => {
      expect((await jsm.streams.info('user_registered')).state.messages).toBe(1);
      // The same CloudEvent id published again (an outbox relay's retry) is stored once.
      const again = await jsm
        .jetstream()
        .publish('user.registered', 'before', { msgID: 'event-1' });
      expect(again.duplicate).toBe(true);
      for (const topic of topics) await jsm.streams.info(streamNameOf(topic));
    });
  }, 30_000);

  it('stops cleanly and leaves neither a process nor an open port', async () => {
    await expectStopsCleanly(broker, scratch, [port]);
    expect(scratch.output()).toContain('Server is ready');
  }, 30_000);
});

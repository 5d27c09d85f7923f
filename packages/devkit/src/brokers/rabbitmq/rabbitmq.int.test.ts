import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning, portAnswers } from '../../process/probes.ts';
import { ProcessGroup } from '../../process/processes.ts';
import { findRepoRoot } from '../../process/repo-root.ts';
import { shopTopics } from '../profiles.ts';
import { type RabbitMQHandle, startRabbitMQ, withAmqpConnection } from './rabbitmq.ts';

// notifications' queue for user.registered, declared by the broker at boot from
// components/common/subscriptions.yaml, before any sidecar subscribed.
const queue = 'notifications-user.registered';

/** A channel with publisher confirms on, logged in as the sidecars are; closed after `use`. */
function withConfirmChannel<T>(
  broker: RabbitMQHandle,
  use: (channel: ConfirmChannel) => Promise<T>,
): Promise<T> {
  return withAmqpConnection(broker.ports.amqp, broker.credentials, async (connection) => {
    const channel = await connection.createConfirmChannel();
    // Failures also reject the call that met them.
    channel.on('error', () => {});
    return use(channel);
  });
}

/** Publishes a persistent message and waits for the broker's confirm (a nack fails). */
async function publishPersistent(
  channel: ConfirmChannel,
  exchange: string,
  body: string,
): Promise<void> {
  channel.publish(exchange, '', Buffer.from(body), { persistent: true });
  await channel.waitForConfirms();
}

/** How many messages wait in `name`; a passive declare fails if the queue does not exist. */
async function messagesIn(channel: ConfirmChannel, name: string): Promise<number> {
  return (await channel.checkQueue(name)).messageCount;
}

async function openPorts(broker: RabbitMQHandle): Promise<number[]> {
  const ports = Object.values(broker.ports);
  const answering = await Promise.all(ports.map((port) => portAnswers(port)));
  return ports.filter((_, i) => answering[i]);
}

describe('the rabbitmq broker profile', () => {
  const repoRoot = findRepoRoot();
  let dir: string;
  let group: ProcessGroup;
  let broker: RabbitMQHandle;
  const unexpected: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shop-rabbitmq-'));
    group = new ProcessGroup({
      output: () => {},
      onUnexpectedExit: (exit) => unexpected.push(exit.name),
    });
    broker = await startRabbitMQ({
      group,
      repoRoot,
      dir: join(dir, 'rabbitmq'),
      topics: shopTopics(repoRoot),
      durable: false,
    });
  }, 90_000);

  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a confirmed persistent message through kill -9 and a restart, then stops leaving nothing', async () => {
    expect(broker.sidecarEnv.RABBITMQ_URL).toBe(
      `amqp://shop:${broker.credentials.password}@127.0.0.1:${broker.ports.amqp}`,
    );
    await withConfirmChannel(broker, async (channel) => {
      expect(await messagesIn(channel, queue)).toBe(0);
      await publishPersistent(channel, 'user.registered', '{"id":"evt-1"}');
      expect(await messagesIn(channel, queue)).toBe(1);
    });
    const running = broker.pids();
    // epmd, the Erlang VM and its port helpers.
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(await openPorts(broker)).toEqual(Object.values(broker.ports));

    await broker.kill();
    expect(running.filter(isRunning)).toEqual([]);
    expect(broker.pids()).toEqual([]);
    expect(await openPorts(broker)).toEqual([]);

    await broker.restart();
    expect(await withConfirmChannel(broker, (channel) => messagesIn(channel, queue))).toBe(1);
    const restarted = broker.pids();
    expect(restarted.length).toBeGreaterThanOrEqual(3);

    await group.stopInStages([broker.processNames]);
    await broker.stop();
    expect([...running, ...restarted].filter(isRunning)).toEqual([]);
    expect(broker.pids()).toEqual([]);
    expect(group.names()).toEqual([]);
    expect(await openPorts(broker)).toEqual([]);
    // Only kill() took it down; nothing died by itself.
    expect(unexpected).toEqual([]);
  }, 60_000);
});

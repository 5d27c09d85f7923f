import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../manifest.ts';
import { ProcessGroup } from '../processes.ts';
import { shopTopics } from './index.ts';
import {
  type AmqpWire,
  amqpEncode,
  amqpLogin,
  isRunning,
  portAnswers,
  type RabbitMQHandle,
  startRabbitMQ,
} from './rabbitmq.ts';

const { u8, u16, u64, shortString, emptyTable } = amqpEncode;

// notifications' queue for user.registered, declared by the broker at boot from
// components/common/subscriptions.yaml, before any sidecar subscribed.
const queue = 'notifications-user.registered';

/** Opens channel 1 with publisher confirms on. */
async function confirmingChannel(wire: AmqpWire): Promise<void> {
  wire.sendMethod(1, 20, 10, [shortString('')]); // channel.open
  await wire.expectMethod(1, 20, 11);
  wire.sendMethod(1, 85, 10, [u8(0)]); // confirm.select
  await wire.expectMethod(1, 85, 11);
}

/** Publishes a persistent message and waits for the broker's confirm. */
async function publishPersistent(wire: AmqpWire, exchange: string, body: string): Promise<void> {
  wire.sendMethod(1, 60, 40, [u16(0), shortString(exchange), shortString(''), u8(0)]);
  const content = Buffer.from(body);
  // Content header: class basic, weight 0, body size, flags (delivery-mode only), mode 2.
  wire.sendFrame(2, 1, Buffer.concat([u16(60), u16(0), u64(content.length), u16(0x1000), u8(2)]));
  wire.sendFrame(3, 1, content);
  await wire.expectMethod(1, 60, 80); // basic.ack
}

/** How many messages wait in `name`; a passive declare fails if the queue does not exist. */
async function messagesIn(wire: AmqpWire, name: string): Promise<number> {
  wire.sendMethod(1, 50, 10, [u16(0), shortString(name), u8(1), emptyTable()]);
  const ok = await wire.expectMethod(1, 50, 11);
  return ok.readUInt32BE(1 + ok.readUInt8(0));
}

async function withConnection<T>(
  broker: RabbitMQHandle,
  use: (wire: AmqpWire) => Promise<T>,
): Promise<T> {
  const wire = await amqpLogin(broker.ports.amqp, broker.credentials);
  try {
    await confirmingChannel(wire);
    return await use(wire);
  } finally {
    await wire.close();
  }
}

async function openPorts(broker: RabbitMQHandle): Promise<number[]> {
  const ports = Object.values(broker.ports);
  const answering = await Promise.all(ports.map(portAnswers));
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
    await withConnection(broker, async (wire) => {
      expect(await messagesIn(wire, queue)).toBe(0);
      await publishPersistent(wire, 'user.registered', '{"id":"evt-1"}');
      expect(await messagesIn(wire, queue)).toBe(1);
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
    expect(await withConnection(broker, (wire) => messagesIn(wire, queue))).toBe(1);
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

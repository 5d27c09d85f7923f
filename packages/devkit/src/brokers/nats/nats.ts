import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pollUntil } from '../../process/poll.ts';
import { freePorts } from '../../process/ports.ts';
import { type GoTool, resolveGoTool } from '../../toolchain/go-tool.ts';
import type { BrokerHandle, BrokerStartOptions } from '../profiles.ts';

const natsServerModule = 'github.com/nats-io/nats-server/v2';

export const natsServerTool: GoTool = {
  name: 'nats-server',
  wrapperDir: 'tools/nats-server',
  module: natsServerModule,
  mainPackage: natsServerModule,
  // The version it prints is a constant of its source; the stamp only names the release in
  // the links of its monitoring pages (which the shop does not serve).
  ldflags: (version) => `-s -w -X ${natsServerModule}/server.serverVersion=v${version}`,
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['--version'],
  // It prints `nats-server: v2.15.2`.
  versionFrom: (output) => /^nats-server: v?(\S+)$/m.exec(output)?.[1],
  pathVariable: 'NATS_SERVER_PATH',
};

/** A nats-server of the pinned version, built and cached on first use. */
export const resolveNatsServer = (repoRoot: string) => resolveGoTool(repoRoot, natsServerTool);

/** The group's process name of the broker. */
export const natsProcessName = 'nats-server';

/**
 * Makes sure everything the nats profile needs is on this machine (installed, built or
 * resolved once and cached), and returns the version it will run. npm test's setup calls
 * it, so no test waits for an install.
 */
export function prepareNats(repoRoot: string): string {
  const binary = resolveNatsServer(repoRoot);
  const result = spawnSync(binary, natsServerTool.versionArgs, { encoding: 'utf8' });
  const version = natsServerTool.versionFrom?.(result.stdout ?? '');
  if (!version) throw new Error(`${binary} --version printed no version: ${result.stderr}`);
  return version;
}

/** A stream's configuration as the supervisor creates it. */
type TopicStream = Partial<StreamConfig> & { name: string };

/**
 * The stream that holds one topic. Each topic gets a stream of its own because Dapr's
 * JetStream component gives every subscription of a sidecar the same durable consumer
 * name (durableName, `{appID}` in components/nats/pubsub.yaml) and consumer names are unique
 * per stream: with all topics in one stream, an app's second topic would find the first
 * topic's consumer under that name and fail to subscribe ("subject does not match consumer").
 * Stream names may not contain dots.
 */
export function streamNameOf(topic: string): string {
  return topic.replaceAll('.', '_');
}

/** The stream of each topic; throws if two topics would share a stream name. */
function streamConfigs(topics: string[]): TopicStream[] {
  const byName = new Map<string, string>();
  for (const topic of topics) {
    if (/[\s*>]/.test(topic) || topic === '') throw new Error(`"${topic}" is not a NATS subject`);
    const name = streamNameOf(topic);
    const other = byName.get(name);
    if (other) throw new Error(`topics "${other}" and "${topic}" would share stream ${name}`);
    byName.set(name, topic);
  }
  return [...byName].map(([name, topic]) => ({
    name,
    // Exactly the topic: a wildcard would also capture the _INBOX reply subjects of
    // requests (JetStream's own API answers included) and store them as events.
    subjects: [topic],
    storage: StorageType.File,
    // Kept by limits, not by interest: an event published before its consumers first
    // subscribed (the admin's user.registered at the first start) must wait for them.
    retention: RetentionPolicy.Limits,
    // As the redis profile caps each stream: the oldest events go first, so a long-running
    // shop does not grow its store without bound.
    max_msgs: 100_000,
    discard: DiscardPolicy.Old,
    // Dapr sends each CloudEvent id as Nats-MsgId: an outbox relay that publishes an event
    // again (its acknowledgement was lost) within this window stores it once.
    duplicate_window: 2 * 60 * 1_000_000_000,
    num_replicas: 1,
  }));
}

/** Creates each missing stream, and brings an existing one to its configuration. */
async function ensureStreams(jsm: JetStreamManager, configs: TopicStream[]) {
  for (const config of configs) {
    const { name } = config;
    try {
      await jsm.streams.info(name);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
        await jsm.streams.add(config);
        continue;
      }
      throw error;
    }
    await jsm.streams.update(name, config);
  }
}

/**
 * Resolves once the server takes connections, JetStream answers and every stream exists;
 * throws when the server exits first or does not get there by the deadline.
 */
async function waitUntilReady(
  url: string,
  configs: TopicStream[],
  running: () => boolean,
): Promise<void> {
  // Refused while it starts, or JetStream not yet answering while it recovers its store.
  await pollUntil(
    async () => {
      const connection = await connect({ servers: url, reconnect: false, timeout: 1_000 });
      try {
        await ensureStreams(await jetstreamManager(connection, { timeout: 2_000 }), configs);
        return true;
      } finally {
        await connection.close();
      }
    },
    {
      what: `nats-server on ${url} to be ready with its streams`,
      timeoutMs: 30_000,
      intervalMs: 50,
      giveUpIf: () => (running() ? undefined : 'nats-server exited during start (see its log)'),
    },
  );
}

/**
 * A private nats-server with JetStream on a free loopback port, its store under
 * `options.dir`, and a stream per topic of the shop (Dapr creates none).
 */
export async function startNats(options: BrokerStartOptions): Promise<BrokerHandle> {
  const { group } = options;
  const binary = resolveNatsServer(options.repoRoot);
  mkdirSync(options.dir, { recursive: true });
  const [port] = await freePorts(1);
  const url = `nats://127.0.0.1:${port}`;
  const configFile = join(options.dir, 'nats-server.conf');
  writeFileSync(
    configFile,
    serverConfig({ port: port as number, dir: options.dir, durable: options.durable }),
  );
  const configs = streamConfigs(options.topics);

  group.start({
    name: natsProcessName,
    command: binary,
    args: ['--config', configFile],
    cwd: options.dir,
    env: { PATH: process.env.PATH, HOME: options.dir },
  });
  const running = () => group.has(natsProcessName);
  await waitUntilReady(url, configs, running);

  return {
    profile: 'nats',
    sidecarEnv: { NATS_URL: url },
    processNames: [natsProcessName],
    kill: () => group.stop(natsProcessName, { signal: 'SIGKILL' }),
    async restart() {
      group.restart(natsProcessName);
      await waitUntilReady(url, configs, running);
    },
    pids: () => [group.pidOf(natsProcessName)].filter((pid) => pid !== undefined),
    // SIGTERM: it flushes its store and exits.
    stop: () => group.stop(natsProcessName),
  };
}

function serverConfig(options: { port: number; dir: string; durable: boolean }): string {
  return [
    '# Written by the shop supervisor at each start (packages/devkit/src/brokers/nats/nats.ts).',
    `listen: "127.0.0.1:${options.port}"`,
    // Its name in its log and in JetStream's answers, instead of a new random id each start.
    'server_name: shop',
    'jetstream {',
    // It keeps its streams in a folder `jetstream` beneath this one.
    `  store_dir: ${JSON.stringify(options.dir)}`,
    // A killed process loses nothing it wrote (the kernel holds it); fsync each second
    // bounds what a lost machine loses, as the redis profile's appendfsync everysec does.
    // A throw-away shop keeps the server's default (every two minutes).
    ...(options.durable ? ['  sync_interval: "1s"'] : []),
    '}',
    '',
  ].join('\n');
}

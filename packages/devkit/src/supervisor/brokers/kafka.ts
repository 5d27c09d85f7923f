import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../ports.ts';
import { ensureDebianProgram } from '../system.ts';
import type { BrokerHandle, BrokerStartOptions } from './index.ts';

/** The group's process name of the broker. */
export const kafkaProcessName = 'kafka';

/**
 * Partitions of every topic the supervisor creates. A consumer group works through a
 * partition one event at a time, so an event its handler answers RETRY holds back those
 * behind it in the same partition for up to the ~25 s of delivery retries; with eight,
 * events published together mostly land in different partitions and pass it, and up to
 * eight replicas of one app find work each. Dapr publishes without a key, so Sarama picks
 * a partition at random.
 */
export const partitionsPerTopic = 8;

const pomPath = 'tools/kafka/pom.xml';
const startTimeoutMs = 60_000;

/** The Kafka release tools/kafka/pom.xml pins. */
export function pinnedKafkaVersion(repoRoot: string): string {
  const pom = readFileSync(join(repoRoot, pomPath), 'utf8');
  const version = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new Error(`${pomPath} does not pin <kafka.version>`);
  return version;
}

function libsDirOf(version: string): string {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cacheRoot, 'shop', 'kafka', version, 'libs');
}

/**
 * The folder of the broker's jars at the pinned version: resolved from Maven Central by
 * Maven once (about 45 MB) and cached outside the repository, keyed by version.
 */
function resolveKafkaLibs(repoRoot: string): { version: string; libs: string } {
  const version = pinnedKafkaVersion(repoRoot);
  const libs = libsDirOf(version);
  // The folder appears only by a rename of a complete copy, so its broker jar means done.
  if (existsSync(join(libs, `kafka_2.13-${version}.jar`))) return { version, libs };

  const mvn = ensureDebianProgram('mvn', 'maven');
  console.error(`shop: resolving Kafka ${version} from Maven Central; this happens once ...`);
  const started = performance.now();
  mkdirSync(join(libs, '..'), { recursive: true });
  const partial = `${libs}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const result = spawnSync(
    mvn,
    [
      ...['--batch-mode', '--quiet', '-Dstyle.color=never'],
      ...['-f', join(repoRoot, pomPath), 'dependency:copy-dependencies'],
      `-DoutputDirectory=${partial}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0 || !existsSync(join(partial, `kafka_2.13-${version}.jar`))) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `resolving Kafka ${version} with Maven failed (see its output above); it needs Maven Central`,
    );
  }
  try {
    // Atomic: a concurrent run sees either no folder or a complete one.
    renameSync(partial, libs);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    // Another run got there first with the same jars.
    if (!existsSync(join(libs, `kafka_2.13-${version}.jar`))) throw error;
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  console.error(`shop: Kafka ${version} resolved in ${seconds} s, cached at ${libs}`);
  return { version, libs };
}

/** Kafka 4.1's broker needs Java 17 or newer; Debian 12's default runtime is 17. */
const findJava = () => ensureDebianProgram('java', 'openjdk-17-jre-headless');

/**
 * Makes sure everything the kafka profile needs is on this machine (installed, built or
 * resolved once and cached), and returns the version it will run. npm test's setup calls
 * it, so no test waits for an install.
 */
export function prepareKafka(repoRoot: string): string {
  findJava();
  return resolveKafkaLibs(repoRoot).version;
}

/**
 * The JVM's settings: a dev broker that idles at a fraction of Kafka's usual 1 GiB heap and
 * starts in seconds.
 */
function jvmOptions(dir: string): string[] {
  return [
    // Enough for the shop's traffic (the log lives in the page cache, not the heap).
    '-Xms64m',
    '-Xmx256m',
    // One collector thread and no concurrent machinery: the smallest footprint at idle.
    '-XX:+UseSerialGC',
    // The quick compiler only: a faster start and less memory for compiled code, at a
    // throughput the shop never needs from its broker.
    '-XX:TieredStopAtLevel=1',
    // No hsperfdata file in /tmp (nothing left behind after a kill -9).
    '-XX:-UsePerfData',
    // Dies visibly rather than limping on.
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    // Plain IPv4 sockets on 127.0.0.1, instead of IPv6 sockets bound to ::ffff:127.0.0.1.
    '-Djava.net.preferIPv4Stack=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
  ];
}

/**
 * Kafka's log4j2 configuration: warnings and errors, plus the one line that says the
 * server started, to the broker's output (which the supervisor shows or files).
 */
const log4jConfig = [
  '# Written by the shop supervisor at each start (packages/devkit/src/supervisor/brokers/kafka.ts).',
  'status = warn',
  // Kafka still logs while the JVM exits; Log4j's own shutdown hook would close the
  // appender under it (and complain).
  'shutdownHook = disable',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = %-5p [%c{1}] %m%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.out.ref = out',
  'logger.started.name = kafka.server.KafkaRaftServer',
  'logger.started.level = info',
  '',
].join('\n');

type ServerConfig = { port: number; controllerPort: number; dataDir: string; durable: boolean };

/** server.properties of a single-node KRaft cluster (broker and controller in one JVM). */
function serverProperties(config: ServerConfig): string {
  const { port, controllerPort, dataDir, durable } = config;
  const lines = [
    '# Written by the shop supervisor at each start (packages/devkit/src/supervisor/brokers/kafka.ts).',
    // One JVM is both the broker and the only controller of its metadata quorum.
    'process.roles=broker,controller',
    'node.id=1',
    // A static quorum, named here at every start: the ports are drawn afresh whenever the
    // shop starts, and a dynamic quorum (kafka-storage format --standalone) would keep the
    // first start's controller address in its log.
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    // Loopback only, both listeners.
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One copy of everything: there is one broker. Writes succeed with that one copy
    // (acks=all means this broker has it).
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Seven consumer groups need no 50 partitions of committed offsets.
    'offsets.topic.num.partitions=4',
    // The supervisor creates every topic of the shop before it returns (readinessProblem);
    // a topic it does not know (a test's own) is still made on first use, with the same
    // partitions, as the redis profile makes a stream on first use.
    'auto.create.topics.enable=true',
    `num.partitions=${partitionsPerTopic}`,
    // A consumer group forms at once instead of waiting 3 s for more members: sidecars
    // start one by one, and a later one just rebalances the group.
    'group.initial.rebalance.delay.ms=0',
    // After a kill -9 the restarted controller still holds the dead JVM's broker session and
    // refuses the new one's registration (the port stays shut) until that session expires:
    // 9 s by default. Heartbeats go over loopback inside one JVM, so a short session is safe.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=2000',
    // A dev broker's threads: few, since each costs memory and the load is light.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'num.recovery.threads.per.data.dir=1',
    // The compaction of committed offsets needs a little buffer, not the default 128 MiB.
    'log.cleaner.dedupe.buffer.size=8388608',
    // Events are kept 7 days (Kafka's default, stated because it is a promise): a consumer
    // down for longer misses the oldest, and a long-running shop does not grow without bound.
    'log.retention.hours=168',
  ];
  if (durable) {
    // An acknowledged event is in the OS page cache, which survives a kill -9 of the JVM;
    // Kafka normally counts on replicas against a host crash, and a single node has none.
    // So it fsyncs every second, as the redis profile's appendfsync everysec: a host crash
    // loses at most about the last second.
    lines.push('log.flush.interval.ms=1000', 'log.flush.scheduler.interval.ms=1000');
  }
  return `${lines.join('\n')}\n`;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid format). */
const newClusterId = () => randomBytes(16).toString('base64url');

/**
 * Formats the log folder once (the cluster id, the node id, the bootstrap metadata), as
 * `kafka-storage.sh format` does; a folder with meta.properties is formatted already.
 */
async function formatStorage(java: string, classpath: string, dir: string, dataDir: string) {
  if (existsSync(join(dataDir, 'meta.properties'))) return;
  await promisify(execFile)(
    java,
    [
      ...jvmOptions(dir),
      ...['-cp', classpath, 'kafka.tools.StorageTool', 'format'],
      ...['--cluster-id', newClusterId(), '--config', join(dir, 'server.properties')],
    ],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, timeout: 60_000 },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `formatting Kafka's storage in ${dataDir} failed: ${error.stderr || error.stdout || error.message}`,
    );
  });
}

/**
 * A private Kafka broker (single-node KRaft) on free loopback ports, its log under
 * `options.dir`, and every topic of the shop created with `partitionsPerTopic` partitions
 * before it returns.
 */
export async function startKafka(options: BrokerStartOptions): Promise<BrokerHandle> {
  const { group, dir } = options;
  const java = findJava();
  const { libs } = resolveKafkaLibs(options.repoRoot);
  const classpath = join(libs, '*');
  const dataDir = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  writeFileSync(
    join(dir, 'server.properties'),
    serverProperties({ port, controllerPort, dataDir, durable: options.durable }),
  );
  writeFileSync(join(dir, 'log4j2.properties'), log4jConfig);
  await formatStorage(java, classpath, dir, dataDir);

  group.start({
    name: kafkaProcessName,
    command: java,
    args: [...jvmOptions(dir), '-cp', classpath, 'kafka.Kafka', join(dir, 'server.properties')],
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir },
  });
  const running = () => group.has(kafkaProcessName);
  const ready = () => waitUntilReady(port, options.topics, running);
  try {
    await ready();
  } catch (error) {
    await group.stop(kafkaProcessName, { graceMs: 5_000 });
    throw error;
  }

  return {
    profile: 'kafka',
    sidecarEnv: { KAFKA_BROKERS: `127.0.0.1:${port}` },
    processNames: [kafkaProcessName],
    kill: () => group.stop(kafkaProcessName, { signal: 'SIGKILL' }),
    async restart() {
      group.restart(kafkaProcessName);
      await ready();
    },
    pids: () => [group.pidOf(kafkaProcessName)].filter((pid) => pid !== undefined),
    // SIGTERM: a controlled shutdown that closes its logs cleanly (no recovery next start).
    stop: () => group.stop(kafkaProcessName),
  };
}

/**
 * Resolves once the broker takes connections, every topic exists with a leader on each
 * partition, and the group coordinator answers (so the sidecars' consumer groups can
 * join); throws when the broker exits first or does not get there in time.
 */
async function waitUntilReady(port: number, topics: string[], running: () => boolean) {
  const deadline = Date.now() + startTimeoutMs;
  let lastProblem = 'it did not take connections';
  while (Date.now() < deadline) {
    if (!running()) throw new Error('kafka exited during start (see its log)');
    const problem = await KafkaConnection.open(port)
      .then(async (connection) => {
        try {
          return await readinessProblem(connection, topics);
        } finally {
          connection.close();
        }
      })
      .catch((error: Error) => error.message);
    if (problem === undefined) return;
    lastProblem = problem;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`kafka on 127.0.0.1:${port} was not ready: ${lastProblem}`);
}

/**
 * What is still missing, or undefined when the broker is ready for the shop. Every topic is
 * created here, explicitly, rather than left to the broker's auto-creation on first use:
 * so each has its partitions before any sidecar starts (a subscriber that found no topic
 * would first make it as a side effect of asking for its metadata), the dead-letter topics
 * exist before Dapr first needs them, and a restart is ready only once every partition has
 * its leader back, where publishes would otherwise fail meanwhile (LEADER_NOT_AVAILABLE).
 */
async function readinessProblem(
  connection: KafkaConnection,
  topics: string[],
): Promise<string | undefined> {
  const created = await connection.createTopics(topics, partitionsPerTopic);
  const failed = created.filter(
    (topic) => topic.errorCode !== errors.none && topic.errorCode !== errors.topicAlreadyExists,
  );
  if (failed.length > 0) {
    const [first] = failed;
    return `creating topic ${first?.name} failed with error ${first?.errorCode} ${first?.message ?? ''}`;
  }
  const metadata = await connection.metadata(topics);
  for (const topic of metadata.topics) {
    if (topic.errorCode !== errors.none) return `topic ${topic.name}: error ${topic.errorCode}`;
    const leaderless = topic.partitions.find((p) => p.errorCode !== errors.none || p.leader < 0);
    if (leaderless) return `topic ${topic.name} partition ${leaderless.index} has no leader yet`;
  }
  const coordinator = await connection.findGroupCoordinator('shop');
  if (coordinator !== errors.none) return `the group coordinator answered error ${coordinator}`;
  return undefined;
}

/** Kafka error codes the supervisor tells apart. */
const errors = { none: 0, topicAlreadyExists: 36 } as const;

// --- A minimal client of Kafka's wire protocol ---------------------------------------
//
// The supervisor needs three requests: create topics, read their metadata, find a group
// coordinator. Speaking them from here takes one connection and a few milliseconds, where
// the JVM tools of the distribution (kafka-topics.sh) take a second or two and a JVM each,
// and create one topic per run. Each request uses a version that Kafka 4.x still serves
// (KIP-896 dropped the oldest) in the classic, non-flexible encoding.

const api = {
  metadata: { key: 3, version: 4 },
  findCoordinator: { key: 10, version: 1 },
  createTopics: { key: 19, version: 4 },
} as const;

class Writer {
  readonly #chunks: Buffer[] = [];
  int8(value: number): this {
    const chunk = Buffer.alloc(1);
    chunk.writeInt8(value);
    this.#chunks.push(chunk);
    return this;
  }
  int16(value: number): this {
    const chunk = Buffer.alloc(2);
    chunk.writeInt16BE(value);
    this.#chunks.push(chunk);
    return this;
  }
  int32(value: number): this {
    const chunk = Buffer.alloc(4);
    chunk.writeInt32BE(value);
    this.#chunks.push(chunk);
    return this;
  }
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    this.int16(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }
  array<T>(items: readonly T[], write: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

class Reader {
  #offset = 0;
  readonly #buffer: Buffer;
  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }
  int8(): number {
    const value = this.#buffer.readInt8(this.#offset);
    this.#offset += 1;
    return value;
  }
  int16(): number {
    const value = this.#buffer.readInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }
  int32(): number {
    const value = this.#buffer.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.#buffer.toString('utf8', this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }
  array<T>(read: () => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read());
    return items;
  }
}

export type TopicMetadata = {
  name: string;
  errorCode: number;
  partitions: Array<{ index: number; errorCode: number; leader: number }>;
};

/** One connection to a broker; requests go one at a time, each awaited. */
export class KafkaConnection {
  #correlationId = 0;
  #received = Buffer.alloc(0);
  #pending: { resolve(frame: Buffer): void; reject(error: Error): void } | undefined;
  #failure: Error | undefined;

  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (data) => {
      this.#received = Buffer.concat([this.#received, data]);
      this.#deliver();
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      this.#pending?.reject(this.#failure);
      this.#pending = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the broker closed the connection')));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the broker did not answer')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new KafkaConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #deliver(): void {
    if (this.#received.length < 4) return;
    const size = this.#received.readInt32BE(0);
    if (this.#received.length < 4 + size) return;
    const frame = this.#received.subarray(4, 4 + size);
    this.#received = this.#received.subarray(4 + size);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(frame);
  }

  async #request(which: { key: number; version: number }, body: Buffer): Promise<Reader> {
    if (this.#failure) throw this.#failure;
    const correlationId = ++this.#correlationId;
    // Request header v1: api key, api version, correlation id, client id.
    const header = new Writer()
      .int16(which.key)
      .int16(which.version)
      .int32(correlationId)
      .string('shop-supervisor')
      .bytes();
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(
        Buffer.concat([new Writer().int32(header.length + body.length).bytes(), header, body]),
      );
    });
    // Response header v0: the correlation id.
    const reader = new Reader(frame);
    if (reader.int32() !== correlationId) throw new Error('the broker answered out of turn');
    return reader;
  }

  /** CreateTopics v4; a topic that exists already answers error 36 and is left as it is. */
  async createTopics(
    topics: string[],
    partitions: number,
  ): Promise<Array<{ name: string; errorCode: number; message: string | null }>> {
    const body = new Writer();
    body
      .array(topics, (name) => {
        body
          .string(name)
          .int32(partitions)
          .int16(-1) // the broker's default.replication.factor
          .array([], () => {}) // no manual assignment
          .array([], () => {}); // no per-topic configuration: the broker's defaults
      })
      .int32(10_000) // timeout_ms
      .int8(0); // validate_only: false
    const reader = await this.#request(api.createTopics, body.bytes());
    reader.int32(); // throttle_time_ms
    return reader.array(() => ({
      name: reader.string() ?? '',
      errorCode: reader.int16(),
      message: reader.string(),
    }));
  }

  /** Metadata v4 of the given topics, without creating any. */
  async metadata(topics: string[]): Promise<{ clusterId: string | null; topics: TopicMetadata[] }> {
    const body = new Writer();
    body.array(topics, (name) => body.string(name)).int8(0); // allow_auto_topic_creation: false
    const reader = await this.#request(api.metadata, body.bytes());
    reader.int32(); // throttle_time_ms
    reader.array(() => {
      reader.int32(); // node_id
      reader.string(); // host
      reader.int32(); // port
      reader.string(); // rack
    });
    const clusterId = reader.string();
    reader.int32(); // controller_id
    const found = reader.array(() => {
      const errorCode = reader.int16();
      const name = reader.string() ?? '';
      reader.int8(); // is_internal
      const partitions = reader.array(() => {
        const partitionError = reader.int16();
        const index = reader.int32();
        const leader = reader.int32();
        reader.array(() => reader.int32()); // replica_nodes
        reader.array(() => reader.int32()); // isr_nodes
        return { index, errorCode: partitionError, leader };
      });
      return { name, errorCode, partitions };
    });
    return { clusterId, topics: found };
  }

  /** FindCoordinator v1 for a consumer group: its error code (0 once offsets can be kept). */
  async findGroupCoordinator(groupId: string): Promise<number> {
    const body = new Writer().string(groupId).int8(0).bytes(); // key_type 0: a group
    const reader = await this.#request(api.findCoordinator, body);
    reader.int32(); // throttle_time_ms
    return reader.int16();
  }
}

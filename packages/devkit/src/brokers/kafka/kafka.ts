import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { pollUntil } from '../../process/poll.ts';
import { freePorts } from '../../process/ports.ts';
import { ensureDebianProgram } from '../../process/system.ts';
import { buildIntoCache, shopCachePath } from '../../toolchain/cache.ts';
import type { BrokerHandle, BrokerStartOptions } from '../profiles.ts';

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
  return shopCachePath('kafka', version, 'libs');
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
  const brokerJar = (folder: string) => existsSync(join(folder, `kafka_2.13-${version}.jar`));
  buildIntoCache({
    what: `Kafka ${version} from Maven Central`,
    verb: 'resolving',
    target: libs,
    complete: brokerJar,
    build(partial) {
      const pom = join(repoRoot, pomPath);
      const result = spawnSync(
        mvn,
        [
          ...['--batch-mode', '--quiet', '-Dstyle.color=never'],
          ...['-f', pom, 'dependency:copy-dependencies'],
          `-DoutputDirectory=${partial}`,
          '-DincludeScope=runtime',
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      if (result.status !== 0) {
        throw new Error(`resolving Kafka ${version} with Maven failed; it needs Maven Central`);
      }
    },
  });
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
  '# Written by the shop supervisor at each start (packages/devkit/src/brokers/kafka/kafka.ts).',
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
    '# Written by the shop supervisor at each start (packages/devkit/src/brokers/kafka/kafka.ts).',
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
    // Plaintext without authentication, on loopback only (components/kafka/pubsub.yaml).
    sidecarEnv: {
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      KAFKA_AUTH_TYPE: 'none',
      KAFKA_DISABLE_TLS: 'true',
    },
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
  await pollUntil(
    async () => {
      const problem = await withKafkaAdmin(port, (admin) => readinessProblem(admin, topics)).catch(
        describeKafkaError,
      );
      if (problem !== undefined) throw new Error(problem);
      return true;
    },
    {
      what: `kafka on 127.0.0.1:${port} to be ready`,
      timeoutMs: startTimeoutMs,
      giveUpIf: () => (running() ? undefined : 'kafka exited during start (see its log)'),
    },
  );
}

/**
 * What is still missing, or undefined when the broker is ready for the shop. Every topic is
 * created here, explicitly, rather than left to the broker's auto-creation on first use:
 * so each has its partitions before any sidecar starts (a subscriber that found no topic
 * would first make it as a side effect of asking for its metadata), the dead-letter topics
 * exist before Dapr first needs them, and a restart is ready only once every partition has
 * its leader back, where publishes would otherwise fail meanwhile (LEADER_NOT_AVAILABLE).
 * The client throws for a partition without a leader and a coordinator not available yet;
 * waitUntilReady takes those as the problem of this round and asks again.
 */
async function readinessProblem(admin: Admin, topics: string[]): Promise<string | undefined> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    const failures = await admin
      .createTopics({ topics: missing, partitions: partitionsPerTopic })
      .then(
        () => [],
        // One made meanwhile (a client's metadata request auto-creates it) is as good.
        (error: unknown) => leafErrors(error).filter((e) => e.apiId !== 'TOPIC_ALREADY_EXISTS'),
      );
    if (failures.length > 0) {
      return `creating topics ${missing.join(', ')} failed: ${failures.map(describeLeaf).join('; ')}`;
    }
  }
  // A copy: the client sorts the list it is given in place.
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  for (const name of topics) {
    const topic = metadata.topics.get(name);
    if (!topic || topic.partitionsCount === 0) return `topic ${name} has no partitions yet`;
    const leaderless = topic.partitions.findIndex(
      (partition) => !partition || partition.leader < 0,
    );
    if (leaderless >= 0) return `topic ${name} partition ${leaderless} has no leader yet`;
  }
  const { FindCoordinatorKeyTypes } = await import('@platformatic/kafka');
  await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: ['shop'] });
  return undefined;
}

/**
 * Runs `use` with an admin client of the broker (@platformatic/kafka) and closes it after,
 * so no connection outlives one round of questions and none keeps the process alive. The
 * client does not retry by itself (waitUntilReady asks again, every 100 ms) and logs
 * nothing unless DEBUG names plt:kafka. It is loaded on first use: the other profiles never
 * pay for it.
 */
export async function withKafkaAdmin<T>(
  port: number,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({
    clientId: 'shop-supervisor',
    bootstrapBrokers: [`127.0.0.1:${port}`],
    connectTimeout: 2_000,
    // How long a request may wait for its answer, and how long the broker may take to
    // create topics before it answers.
    requestTimeout: 10_000,
    timeout: 10_000,
    retries: 0,
  });
  try {
    return await use(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

type KafkaClientError = Error & {
  apiId?: string;
  path?: string;
  serverErrorMessage?: string | null;
};

/** The innermost errors of one of the client's errors, which nest (MultipleErrors). */
function leafErrors(error: unknown): KafkaClientError[] {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.flatMap(leafErrors);
  }
  return [error instanceof Error ? error : new Error(String(error))];
}

/** A Kafka error code's name and the broker's words, or a network error and its cause. */
function describeLeaf(error: KafkaClientError): string {
  if (error.apiId) {
    const where = error.path ? ` at ${error.path}` : '';
    return `${error.apiId}${where}: ${error.serverErrorMessage || error.message}`;
  }
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

/** One line for what went wrong in a round of waitUntilReady. */
function describeKafkaError(error: unknown): string {
  return [...new Set(leafErrors(error).map(describeLeaf))].join('; ');
}

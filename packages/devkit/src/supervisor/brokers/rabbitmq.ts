import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { freePorts } from '../ports.ts';
import type { ChildSpec, ProcessGroup } from '../processes.ts';
import { ensureDebianProgram, findExecutables } from '../system.ts';
import type { BrokerHandle, BrokerStartOptions } from './index.ts';

// Debian's rabbitmq-server: /usr/sbin holds wrappers that switch to the `rabbitmq` account
// and its /var/lib/rabbitmq; the scripts they call live here and run as whoever starts them.
const rabbitBinDir = '/usr/lib/rabbitmq/bin';
const serverScript = join(rabbitBinDir, 'rabbitmq-server');

const serverProcess = 'rabbitmq';
const epmdProcess = 'rabbitmq-epmd';
const startTimeoutMs = 60_000;

// Every process of one broker carries this variable (the broker's folder), so its
// processes can be found even when they left the process group: the Erlang VM starts its
// port helpers (erl_child_setup, inet_gethost) in process groups of their own.
const ownerVariable = 'SHOP_RABBITMQ_DIR';

type RabbitMQInstall = { server: string; epmd: string; version: string };

function resolveRabbitMQ(): RabbitMQInstall {
  if (!existsSync(serverScript)) ensureDebianProgram('rabbitmq-server', 'rabbitmq-server');
  if (!existsSync(serverScript)) {
    throw new Error(
      `package "rabbitmq-server" is installed but ${serverScript} is missing (the shop runs Debian's layout)`,
    );
  }
  // The script is a link into /usr/lib/rabbitmq/lib/rabbitmq_server-<version>/sbin.
  const version = /rabbitmq_server-([^/]+)\//.exec(realpathSync(serverScript))?.[1];
  if (!version) throw new Error(`cannot tell the RabbitMQ version from ${serverScript}`);
  const epmd = findExecutables('epmd', ['/usr/lib/erlang/bin'])[0];
  if (!epmd) throw new Error('epmd is missing: install Debian\'s package "erlang-base"');
  return { server: serverScript, epmd, version };
}

/**
 * Makes sure everything the rabbitmq profile needs is on this machine (installed, built or
 * resolved once and cached), and returns the version it will run. npm test's setup calls
 * it, so no test waits for an install.
 */
export function prepareRabbitMQ(_repoRoot: string): string {
  return resolveRabbitMQ().version;
}

/** The rabbitmq profile's broker, with what its own test needs to look at. */
export type RabbitMQHandle = BrokerHandle & {
  /** AMQP for the sidecars, Erlang distribution, and the broker's own epmd; all loopback. */
  ports: { amqp: number; distribution: number; epmd: number };
  nodeName: string;
  /** The account the sidecars log in with (RABBITMQ_URL carries it too). */
  credentials: { user: string; password: string };
};

/**
 * A private RabbitMQ node: Debian's server run as the current account, everything under
 * `options.dir` (Erlang cookie, database, logs), loopback only, its own epmd on its own
 * port in the process group, no plugins. Exchanges for every topic and a durable queue per
 * subscribing app and topic are declared at every boot, before the broker takes
 * connections, so an event published before its consumer's first subscription is kept.
 * Resolves once the sidecars' account can log in.
 *
 * `options.durable` changes nothing: RabbitMQ has no switch to skip its fsyncs.
 */
export async function startRabbitMQ(options: BrokerStartOptions): Promise<RabbitMQHandle> {
  const install = resolveRabbitMQ();
  const { dir, group } = options;
  const folders = { home: join(dir, 'home'), mnesia: join(dir, 'mnesia'), log: join(dir, 'log') };
  for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true, mode: 0o700 });
  const nodeName = persistentNodeName(dir);
  // A new password each start: the definitions imported at boot set it again every time.
  const credentials = { user: 'shop', password: randomBytes(18).toString('hex') };
  const definitionsFile = join(dir, 'definitions.json');
  writeFileSync(definitionsFile, JSON.stringify(definitions(options, credentials), null, 2), {
    mode: 0o600,
  });
  const pluginsFile = join(dir, 'enabled_plugins');
  writeFileSync(pluginsFile, '[].\n');
  const configFile = join(dir, 'rabbitmq.conf');
  const stdoutFile = join(folders.log, 'stdout.log');

  for (let attempt = 1; ; attempt++) {
    const [amqp, distribution, epmd] = await freePorts(3);
    if (amqp === undefined || distribution === undefined || epmd === undefined)
      throw new Error('no free ports for rabbitmq');
    writeFileSync(configFile, serverConfig(amqp, definitionsFile));
    // A UTF-8 locale, or Erlang treats file names as Latin-1.
    const common = { PATH: process.env.PATH, LANG: 'C.UTF-8', [ownerVariable]: dir };
    const epmdSpec: ChildSpec = {
      name: epmdProcess,
      command: install.epmd,
      // Not -daemon: it stays in the group, so a stop or a dying supervisor takes it along.
      args: ['-port', String(epmd), '-address', '127.0.0.1'],
      cwd: dir,
      env: common,
    };
    const serverSpec: ChildSpec = {
      name: serverProcess,
      // The node prints a banner to stdout at every boot, in colour; it goes to a file, and
      // the node's log lines (warnings and errors) to stderr, which the shop's output shows.
      // `exec` keeps one process: the shell becomes the script, the script the Erlang VM.
      command: '/bin/sh',
      args: ['-c', 'exec "$0" >"$1"', install.server, stdoutFile],
      cwd: dir,
      env: {
        ...common,
        // The Erlang cookie is made here on first start.
        HOME: folders.home,
        RABBITMQ_NODENAME: nodeName,
        RABBITMQ_MNESIA_BASE: folders.mnesia,
        RABBITMQ_LOG_BASE: folders.log,
        RABBITMQ_CONFIG_FILE: configFile,
        RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
        // Neither /etc/rabbitmq/rabbitmq-env.conf nor /etc/rabbitmq/advanced.config applies.
        RABBITMQ_CONF_ENV_FILE: '/dev/null',
        RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
        RABBITMQ_DIST_PORT: String(distribution),
        ERL_EPMD_PORT: String(epmd),
        ERL_CRASH_DUMP: join(folders.log, 'erl_crash.dump'),
        // Until the config file is read, too: warnings and errors only, no colour codes.
        RABBITMQ_LOG: 'warning,-color',
        // Makes the script exec the VM instead of waiting on it in a shell: the VM itself is
        // then the group's process and gets the kernel's kill when the supervisor dies.
        RABBITMQ_ALLOW_INPUT: 'true',
        // RabbitMQ asks for a table of 1,048,576 processes, allocated up front; a shop's
        // broker runs a few hundred.
        RABBITMQ_MAX_NUMBER_OF_PROCESSES: '65536',
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: [
          // No shell on stdin (RABBITMQ_ALLOW_INPUT dropped the script's own -noinput).
          '-noinput',
          // Never a daemon epmd outside the group: the node fails if ours is not there.
          '-start_epmd false',
          // Distribution (how CLI tools reach the node) on loopback only.
          '-kernel inet_dist_use_interface {127,0,0,1}',
          // One scheduler: the machine is shared with seven services and their sidecars,
          // and a shop's traffic needs no more (about 10 MiB less resident memory, measured).
          '+S 1:1',
        ].join(' '),
      },
    };
    group.start(epmdSpec);
    const epmdUp = await waitUntil(
      () => epmdAnswers(epmd),
      () => group.has(epmdProcess),
    );
    if (epmdUp) group.start(serverSpec);
    const ready =
      epmdUp &&
      (await waitUntil(
        () => acceptsLogin(amqp, credentials),
        () => group.has(serverProcess) && group.has(epmdProcess),
      ));
    if (ready) {
      return handle(group, dir, { amqp, distribution, epmd }, nodeName, credentials);
    }
    await stopAll(group, dir, 'SIGKILL');
    // A port picked free may have been taken before the node bound it: try fresh ones.
    if (attempt >= 3) {
      throw new Error(
        `rabbitmq-server did not take logins on 127.0.0.1:${amqp} (its logs are in ${folders.log}); ` +
          `it printed:\n${lastLines(stdoutFile)}`,
      );
    }
  }
}

function handle(
  group: ProcessGroup,
  dir: string,
  ports: RabbitMQHandle['ports'],
  nodeName: string,
  credentials: RabbitMQHandle['credentials'],
): RabbitMQHandle {
  return {
    profile: 'rabbitmq',
    // No trailing slash: the path of an AMQP URI names the vhost, and none means "/".
    sidecarEnv: {
      RABBITMQ_URL: `amqp://${credentials.user}:${credentials.password}@127.0.0.1:${ports.amqp}`,
    },
    processNames: [serverProcess, epmdProcess],
    ports,
    nodeName,
    credentials,
    kill: () => stopAll(group, dir, 'SIGKILL'),
    async restart() {
      if (!group.has(epmdProcess)) group.restart(epmdProcess);
      const epmdUp = await waitUntil(
        () => epmdAnswers(ports.epmd),
        () => group.has(epmdProcess),
      );
      if (!epmdUp) throw new Error(`rabbitmq's epmd did not come back on port ${ports.epmd}`);
      if (!group.has(serverProcess)) group.restart(serverProcess);
      const ready = await waitUntil(
        () => acceptsLogin(ports.amqp, credentials),
        () => group.has(serverProcess),
      );
      if (!ready)
        throw new Error(`rabbitmq-server did not take logins again on port ${ports.amqp}`);
    },
    pids: () => ownedPids(dir),
    stop: () => stopAll(group, dir, 'SIGTERM'),
  };
}

/**
 * Stops the node (SIGTERM lets it close its queues and message stores cleanly) and its
 * epmd, then kills whatever of the broker is still alive; resolves when none of it runs.
 */
async function stopAll(group: ProcessGroup, dir: string, signal: NodeJS.Signals): Promise<void> {
  const before = ownedPids(dir);
  await Promise.all([
    group.stop(serverProcess, { signal, graceMs: 15_000 }),
    group.stop(epmdProcess, { signal }),
  ]);
  const leftovers = [...new Set([...before, ...ownedPids(dir)])];
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (leftovers.some(isRunning)) {
    if (Date.now() > deadline)
      throw new Error(`rabbitmq processes ${leftovers.filter(isRunning).join(', ')} survived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Process ids of every live process started for the broker in `dir`. */
function ownedPids(dir: string): number[] {
  const mark = Buffer.from(`\0${ownerVariable}=${dir}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // A leading NUL lets the first variable match like every other.
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(mark)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids.filter(isRunning);
}

/** Alive and not a zombie waiting for a parent that does not reap it. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The node's name, made once per folder: the database lives under it, so it must not
 * change between starts on the same data, and two shops on one machine must not share it.
 */
function persistentNodeName(dir: string): string {
  const file = join(dir, 'node-name');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const name = `shop-${randomBytes(4).toString('hex')}@localhost`;
  writeFileSync(file, `${name}\n`);
  return name;
}

function serverConfig(amqpPort: number, definitionsFile: string): string {
  return [
    '# Written by the shop supervisor (rabbitmq.ts) at every start; edits here are lost.',
    `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
    // Imported at every boot, before the listener opens.
    `load_definitions = ${definitionsFile}`,
    // A delivery unacknowledged this long closes its channel, which puts it back in its
    // queue for another consumer. Longer than any delivery a sidecar may still be working on (nine attempts
    // of 30 s plus backoff, components/common/resiliency.yaml); RabbitMQ's default is 30
    // minutes. It bounds how long a message can sit with a consumer the sidecar has lost
    // track of (the known defects in components/rabbitmq/pubsub.yaml).
    'consumer_timeout = 360000',
    // Warnings and errors go to the shop's output; the whole story to log/<node>.log.
    'log.console = true',
    'log.console.level = warning',
    'log.console.stdio = stderr',
    'log.console.use_colors = off',
    'log.console.formatter.single_line = on',
    'log.file.level = info',
    'log.file.rotation.size = 10485760',
    'log.file.rotation.count = 2',
    '',
  ].join('\n');
}

/** How Dapr's pubsub.rabbitmq declares what it uses, read from components/rabbitmq/pubsub.yaml. */
type ComponentShape = {
  durable: boolean;
  autoDelete: boolean;
  exchangeKind: string;
  queueArguments(queue: string): Record<string, string | number>;
};

// RabbitMQ refuses a declaration that differs from an existing queue or exchange (406
// PRECONDITION_FAILED), so what is declared at boot follows the component's settings, with
// the component's own defaults where the YAML is silent (components-contrib 1.18).
function componentShape(repoRoot: string): ComponentShape {
  const file = join(repoRoot, 'components/rabbitmq/pubsub.yaml');
  const component = parse(readFileSync(file, 'utf8')) as {
    spec?: { metadata?: Array<{ name: string; value?: unknown }> };
  };
  const values = new Map<string, string>();
  for (const item of component.spec?.metadata ?? []) {
    if (item.value !== undefined) values.set(item.name, String(item.value));
  }
  const flag = (name: string, fallback: boolean) =>
    values.has(name) ? values.get(name) === 'true' : fallback;
  const deadLetters = flag('enableDeadLetter', false);
  const maxLen = Number(values.get('maxLen') ?? 0);
  const maxLenBytes = Number(values.get('maxLenBytes') ?? 0);
  return {
    durable: flag('durable', true),
    autoDelete: flag('deletedWhenUnused', true),
    exchangeKind: values.get('exchangeKind') ?? 'fanout',
    queueArguments: (queue) => ({
      'x-queue-type': 'classic',
      ...(deadLetters && { 'x-dead-letter-exchange': `dlx-${queue}` }),
      ...(maxLen > 0 && { 'x-max-length': maxLen }),
      ...(maxLenBytes > 0 && { 'x-max-length-bytes': maxLenBytes }),
    }),
  };
}

/** Each subscription's queue: `<app id>-<topic>` (Dapr's default consumerID is the app id). */
function subscriptionQueues(repoRoot: string): Array<{ queue: string; topic: string }> {
  const file = readFileSync(join(repoRoot, 'components/common/subscriptions.yaml'), 'utf8');
  const queues: Array<{ queue: string; topic: string }> = [];
  for (const document of parseAllDocuments(file)) {
    const subscription = document.toJS() as {
      kind?: string;
      spec?: { topic?: string; metadata?: { queueName?: string } };
      scopes?: string[];
    } | null;
    const topic = subscription?.spec?.topic;
    if (subscription?.kind !== 'Subscription' || !topic) continue;
    const named = subscription.spec?.metadata?.queueName;
    if (named) queues.push({ queue: named, topic });
    else
      for (const app of subscription.scopes ?? []) queues.push({ queue: `${app}-${topic}`, topic });
  }
  return queues;
}

/**
 * RabbitMQ's definitions: the sidecars' account (a node that imports definitions makes no
 * `guest`), and every exchange, queue and binding the shop uses.
 */
function definitions(
  options: BrokerStartOptions,
  credentials: RabbitMQHandle['credentials'],
): Record<string, unknown> {
  const shape = componentShape(options.repoRoot);
  const queues = subscriptionQueues(options.repoRoot);
  const vhost = '/';
  const topics = [...new Set([...options.topics, ...queues.map((q) => q.topic)])];
  return {
    users: [
      {
        name: credentials.user,
        password_hash: passwordHash(credentials.password),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: [],
      },
    ],
    vhosts: [{ name: vhost }],
    permissions: [{ user: credentials.user, vhost, configure: '.*', write: '.*', read: '.*' }],
    exchanges: topics.map((name) => ({
      name,
      vhost,
      type: shape.exchangeKind,
      durable: shape.durable,
      auto_delete: shape.autoDelete,
      internal: false,
      arguments: {},
    })),
    queues: queues.map(({ queue }) => ({
      name: queue,
      vhost,
      durable: shape.durable,
      auto_delete: shape.autoDelete,
      arguments: shape.queueArguments(queue),
    })),
    bindings: queues.map(({ queue, topic }) => ({
      source: topic,
      vhost,
      destination: queue,
      destination_type: 'queue',
      routing_key: '',
      arguments: {},
    })),
  };
}

/** RabbitMQ's stored form: base64 of a 4-byte salt and SHA-256(salt + password). */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

async function waitUntil(
  probe: () => Promise<boolean>,
  alive: () => boolean,
  timeoutMs = startTimeoutMs,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The last lines of a file, for an error message. */
function lastLines(file: string, count = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(nothing)';
  }
}

/** epmd lists its nodes (a NAMES request), so it is up; a bare connect makes it complain. */
function epmdAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    // Length 1, then NAMES_REQ (110); the answer starts with epmd's port (4 bytes).
    socket.once('connect', () => socket.write(Buffer.from([0, 1, 110])));
    socket.once('data', (data) => done(data.length >= 4));
  });
}

/** Something accepts TCP connections on that loopback port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

async function acceptsLogin(
  port: number,
  credentials: RabbitMQHandle['credentials'],
): Promise<boolean> {
  try {
    const wire = await amqpLogin(port, credentials);
    await wire.close();
    return true;
  } catch {
    return false;
  }
}

// A minimal AMQP 0-9-1 client: enough to log in (the readiness probe) and, in the broker's
// own test, to publish and count messages. Dapr's sidecars are the real clients.

type Frame = { type: number; channel: number; payload: Buffer };

const frameEnd = 0xce;

export const amqpEncode = {
  u8: (n: number) => Buffer.from([n]),
  u16: (n: number) => {
    const buffer = Buffer.alloc(2);
    buffer.writeUInt16BE(n);
    return buffer;
  },
  u32: (n: number) => {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(n);
    return buffer;
  },
  u64: (n: number) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64BE(BigInt(n));
    return buffer;
  },
  shortString: (text: string) =>
    Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]),
  longString: (bytes: Buffer) => Buffer.concat([amqpEncode.u32(bytes.length), bytes]),
  emptyTable: () => amqpEncode.u32(0),
};

export class AmqpWire {
  readonly #socket: Socket;
  #pending = Buffer.alloc(0);
  readonly #frames: Frame[] = [];
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      this.#readFrames();
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the broker closed the connection')));
    socket.on('timeout', () => this.#fail(new Error('the broker did not answer in time')));
  }

  /** Connects and announces AMQP 0-9-1; the broker answers with connection.start. */
  static connect(port: number, timeoutMs = 2_000): Promise<AmqpWire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.setTimeout(timeoutMs);
      const wire = new AmqpWire(socket);
      socket.once('error', reject);
      socket.once('timeout', () => reject(new Error(`no connection to port ${port}`)));
      socket.once('connect', () => {
        socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
        resolve(wire);
      });
    });
  }

  sendFrame(type: number, channel: number, payload: Buffer): void {
    const header = Buffer.alloc(7);
    header.writeUInt8(type, 0);
    header.writeUInt16BE(channel, 1);
    header.writeUInt32BE(payload.length, 3);
    this.#socket.write(Buffer.concat([header, payload, Buffer.from([frameEnd])]));
  }

  sendMethod(channel: number, classId: number, methodId: number, args: Buffer[] = []): void {
    this.sendFrame(
      1,
      channel,
      Buffer.concat([amqpEncode.u16(classId), amqpEncode.u16(methodId), ...args]),
    );
  }

  /**
   * The next method on `channel`, which must be `classId.methodId`; its arguments. A close
   * from the broker (connection or channel) rejects with its reply code and text.
   */
  async expectMethod(channel: number, classId: number, methodId: number): Promise<Buffer> {
    for (;;) {
      const frame = await this.#nextFrame();
      if (frame.type !== 1 || frame.channel !== channel) continue;
      const gotClass = frame.payload.readUInt16BE(0);
      const gotMethod = frame.payload.readUInt16BE(2);
      const args = frame.payload.subarray(4);
      const closing =
        (gotClass === 10 && gotMethod === 50) || (gotClass === 20 && gotMethod === 40);
      if (closing) {
        const code = args.readUInt16BE(0);
        const text = args.subarray(3, 3 + args.readUInt8(2)).toString();
        throw new Error(
          `the broker closed the ${gotClass === 10 ? 'connection' : 'channel'}: ${code} ${text}`,
        );
      }
      if (gotClass !== classId || gotMethod !== methodId) {
        throw new Error(
          `expected AMQP method ${classId}.${methodId}, got ${gotClass}.${gotMethod}`,
        );
      }
      return args;
    }
  }

  /** Closes politely (connection.close, close-ok), so the broker logs no abrupt client. */
  async close(): Promise<void> {
    try {
      this.sendMethod(0, 10, 50, [
        amqpEncode.u16(200),
        amqpEncode.shortString(''),
        amqpEncode.u16(0),
        amqpEncode.u16(0),
      ]);
      await this.expectMethod(0, 10, 51);
    } finally {
      this.#socket.destroy();
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #readFrames(): void {
    while (this.#pending.length >= 7) {
      const size = this.#pending.readUInt32BE(3);
      if (this.#pending.length < 8 + size) return;
      if (this.#pending[7 + size] !== frameEnd) {
        this.#fail(new Error('malformed AMQP frame'));
        return;
      }
      this.#frames.push({
        type: this.#pending.readUInt8(0),
        channel: this.#pending.readUInt16BE(1),
        payload: this.#pending.subarray(7, 7 + size),
      });
      this.#pending = this.#pending.subarray(8 + size);
    }
    this.#wake?.();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  async #nextFrame(): Promise<Frame> {
    for (;;) {
      const frame = this.#frames.shift();
      if (frame) return frame;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

/** Logs in with PLAIN and opens the vhost; the connection is ready for channels. */
export async function amqpLogin(
  port: number,
  credentials: { user: string; password: string },
  vhost = '/',
): Promise<AmqpWire> {
  const wire = await AmqpWire.connect(port);
  try {
    await wire.expectMethod(0, 10, 10); // connection.start
    wire.sendMethod(0, 10, 11, [
      amqpEncode.emptyTable(), // client properties
      amqpEncode.shortString('PLAIN'),
      amqpEncode.longString(Buffer.from(`\0${credentials.user}\0${credentials.password}`)),
      amqpEncode.shortString('en_US'),
    ]);
    const tune = await wire.expectMethod(0, 10, 30);
    // The broker's channel and frame limits as offered; no heartbeats on a short connection.
    wire.sendMethod(0, 10, 31, [tune.subarray(0, 6), amqpEncode.u16(0)]);
    wire.sendMethod(0, 10, 40, [
      amqpEncode.shortString(vhost),
      amqpEncode.shortString(''),
      amqpEncode.u8(0),
    ]);
    await wire.expectMethod(0, 10, 41);
    return wire;
  } catch (error) {
    wire.destroy();
    throw error;
  }
}

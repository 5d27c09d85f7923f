import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ChannelModel } from 'amqplib';
import { parse, parseAllDocuments } from 'yaml';
import { pollUntil } from '../../process/poll.ts';
import { freePorts } from '../../process/ports.ts';
import { isRunning, probeWhileAlive } from '../../process/probes.ts';
import type { ChildSpec, ProcessGroup } from '../../process/processes.ts';
import { ensureDebianProgram, findExecutables } from '../../process/system.ts';
import type { BrokerHandle, BrokerStartOptions } from '../profiles.ts';

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
  // A new password each start: the definitions imported at boot set it again every time.
  const credentials = { user: 'shop', password: randomBytes(18).toString('hex') };
  const files = writeNodeFiles(options, credentials);
  for (let attempt = 1; ; attempt++) {
    const [amqp, distribution, epmd] = await freePorts(3);
    if (amqp === undefined || distribution === undefined || epmd === undefined)
      throw new Error('no free ports for rabbitmq');
    const ports = { amqp, distribution, epmd };
    writeFileSync(files.configFile, serverConfig(amqp, files.definitionsFile));
    const login = loginProbe(amqp, credentials);
    if (await startNode(group, nodeSpecs(install, dir, files, ports), ports.epmd, login)) {
      return handle(group, dir, ports, files.nodeName, credentials);
    }
    await stopAll(group, dir, 'SIGKILL');
    // A port picked free may have been taken before the node bound it: try fresh ones.
    if (attempt >= 3) {
      throw new Error(
        `rabbitmq-server did not take logins on 127.0.0.1:${amqp} (last login attempt: ${login.lastProblem}; ` +
          `its logs are in ${files.folders.log}); ` +
          `it printed:\n${lastLines(files.stdoutFile)}`,
      );
    }
  }
}

type NodeFiles = ReturnType<typeof writeNodeFiles>;

/** The node's folders, its name, and the definitions and plugins it boots with. */
function writeNodeFiles(options: BrokerStartOptions, credentials: RabbitMQHandle['credentials']) {
  const { dir } = options;
  const folders = { home: join(dir, 'home'), mnesia: join(dir, 'mnesia'), log: join(dir, 'log') };
  for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true, mode: 0o700 });
  const definitionsFile = join(dir, 'definitions.json');
  writeFileSync(definitionsFile, JSON.stringify(definitions(options, credentials), null, 2), {
    mode: 0o600,
  });
  const pluginsFile = join(dir, 'enabled_plugins');
  writeFileSync(pluginsFile, '[].\n');
  return {
    folders,
    nodeName: persistentNodeName(dir),
    definitionsFile,
    pluginsFile,
    configFile: join(dir, 'rabbitmq.conf'),
    stdoutFile: join(folders.log, 'stdout.log'),
  };
}

/** epmd first, then the node once epmd answers; whether the node then takes logins. */
async function startNode(
  group: ProcessGroup,
  specs: { epmd: ChildSpec; server: ChildSpec },
  epmdPort: number,
  login: ReturnType<typeof loginProbe>,
): Promise<boolean> {
  group.start(specs.epmd);
  const epmdUp = await probeWhileAlive(
    () => epmdAnswers(epmdPort),
    () => group.has(epmdProcess),
    startTimeoutMs,
  );
  if (!epmdUp) return false;
  group.start(specs.server);
  return probeWhileAlive(
    () => login.accepts(),
    () => group.has(serverProcess) && group.has(epmdProcess),
    startTimeoutMs,
  );
}

function nodeSpecs(
  install: RabbitMQInstall,
  dir: string,
  files: NodeFiles,
  ports: RabbitMQHandle['ports'],
): { epmd: ChildSpec; server: ChildSpec } {
  // A UTF-8 locale, or Erlang treats file names as Latin-1.
  const common = { PATH: process.env.PATH, LANG: 'C.UTF-8', [ownerVariable]: dir };
  return {
    epmd: {
      name: epmdProcess,
      command: install.epmd,
      // Not -daemon: it stays in the group, so a stop or a dying supervisor takes it along.
      args: ['-port', String(ports.epmd), '-address', '127.0.0.1'],
      cwd: dir,
      env: common,
    },
    server: {
      name: serverProcess,
      // The node prints a banner to stdout at every boot, in colour; it goes to a file, and
      // the node's log lines (warnings and errors) to stderr, which the shop's output shows.
      // `exec` keeps one process: the shell becomes the script, the script the Erlang VM.
      command: '/bin/sh',
      args: ['-c', 'exec "$0" >"$1"', install.server, files.stdoutFile],
      cwd: dir,
      env: { ...common, ...serverEnv(dir, files, ports) },
    },
  };
}

function serverEnv(
  dir: string,
  { folders, nodeName, configFile, pluginsFile }: NodeFiles,
  { distribution, epmd }: RabbitMQHandle['ports'],
): Record<string, string> {
  return {
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
  };
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
      const epmdUp = await probeWhileAlive(
        () => epmdAnswers(ports.epmd),
        () => group.has(epmdProcess),
        startTimeoutMs,
      );
      if (!epmdUp) throw new Error(`rabbitmq's epmd did not come back on port ${ports.epmd}`);
      if (!group.has(serverProcess)) group.restart(serverProcess);
      const login = loginProbe(ports.amqp, credentials);
      const ready = await probeWhileAlive(
        () => login.accepts(),
        () => group.has(serverProcess),
        startTimeoutMs,
      );
      if (!ready) {
        throw new Error(
          `rabbitmq-server did not take logins again on port ${ports.amqp} (last login attempt: ${login.lastProblem})`,
        );
      }
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
  await pollUntil(() => (leftovers.some(isRunning) ? undefined : true), {
    what: `rabbitmq processes ${leftovers.join(', ')} to end`,
    timeoutMs: 5_000,
    intervalMs: 50,
  });
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

/**
 * Tells whether the sidecars' account can log in and open a channel; each round is its own
 * connection, closed after. What went wrong last is kept for the error of a start that
 * never got there.
 */
function loginProbe(port: number, credentials: RabbitMQHandle['credentials']) {
  const probe = {
    lastProblem: 'none made',
    async accepts(): Promise<boolean> {
      try {
        await withAmqpConnection(port, credentials, async (connection) => {
          const channel = await connection.createChannel();
          // A failure also rejects the call that met it; an unheard 'error' event would throw
          // inside the client.
          channel.on('error', () => {});
          await channel.close();
        });
        return true;
      } catch (error) {
        probe.lastProblem = error instanceof Error ? error.message : String(error);
        return false;
      }
    },
  };
  return probe;
}

/**
 * Runs `use` on an AMQP connection (amqplib) to the broker on that loopback port, logged in
 * with `credentials` on the vhost "/", then closes it. The TCP connect and the login may
 * each take up to `timeoutMs` without a byte from the broker, `use` and the close together
 * `timeoutMs`; past that the call fails and the socket is destroyed. No heartbeats and no
 * reconnects: nothing of it outlives the call or keeps the process alive. A channel that
 * `use` opens needs an 'error' listener (failures also reject the call that met them).
 * amqplib is loaded on first use: the other profiles never pay for it.
 */
export async function withAmqpConnection<T>(
  port: number,
  credentials: RabbitMQHandle['credentials'],
  use: (connection: ChannelModel) => Promise<T>,
  timeoutMs = 5_000,
): Promise<T> {
  const { connect } = await import('amqplib');
  const connection = await connect(
    {
      protocol: 'amqp',
      hostname: '127.0.0.1',
      port,
      username: credentials.user,
      password: credentials.password,
      vhost: '/',
      heartbeat: 0,
    },
    {
      timeout: timeoutMs,
      // Each question is one small frame: Nagle's wait would add 40 ms to every answer.
      noDelay: true,
      clientProperties: { connection_name: 'shop-supervisor' },
    },
  ).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`no AMQP login to 127.0.0.1:${port} as ${credentials.user}: ${reason}`, {
      cause: error,
    });
  });
  // A lost socket or a close from the broker also rejects whatever waits on it; an 'error'
  // event nobody listens to would throw inside the client.
  connection.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`rabbitmq on port ${port} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([use(connection), expired]);
  } finally {
    // A polite close (close, close-ok) if the broker still answers in time, so it logs no
    // abrupt client; then the socket goes either way.
    await Promise.race([connection.close(), expired]).catch(() => {});
    clearTimeout(timer);
    destroySocket(connection);
  }
}

/**
 * amqplib's close waits for the broker's close-ok, and its types do not show the socket;
 * the connection keeps it as `stream`.
 */
function destroySocket(connection: ChannelModel): void {
  const internal = connection.connection as { stream?: { destroy?: () => void } };
  internal.stream?.destroy?.();
}

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import {
  type BrokerHandle,
  type BrokerProfile,
  shopTopics,
  startBroker,
} from '../brokers/profiles.ts';
import { type FerretDBHandle, resolveFerretDB, startFerretDB } from '../infra/ferretdb.ts';
import {
  type JaegerHandle,
  jaegerProcessName,
  resolveJaeger,
  startJaeger,
  writeDaprTracingConfig,
} from '../infra/jaeger.ts';
import { type MailpitHandle, mailpitProcessName, startMailpit } from '../infra/mailpit.ts';
import { type PostgresHandle, startPostgres } from '../infra/postgres.ts';
import {
  type PrometheusHandle,
  prometheusProcessName,
  startPrometheus,
} from '../infra/prometheus-server.ts';
import { type RedisHandle, startRedis } from '../infra/redis.ts';
import { ensureLocalSecrets, ensureRedisPassword } from '../infra/secrets.ts';
import { pollUntil } from '../process/poll.ts';
import { claimPort, freePorts } from '../process/ports.ts';
import {
  type CrashLoop,
  type ExitInfo,
  type OutputSink,
  ProcessGroup,
} from '../process/processes.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import type { RestartPolicy } from '../process/restart-policy.ts';
import { resolveDaprd } from '../toolchain/daprd.ts';
import { loadManifest } from './manifest.ts';
import {
  type PlannedInstance,
  planShop,
  type RunningInfrastructure,
  type ShopPlan,
  serviceEnv,
  shopPortCount,
  sidecarEnv,
  type stateStoreProfiles,
} from './plan.ts';
import { copyWithOpenTopics } from './topic-scopes.ts';

export type ShopOptions = {
  /** Everything the shop writes (Redis data, name registry, logs) goes below this folder. */
  dataDir: string;
  repoRoot?: string;
  /** Port for the gateway; a free one when not given. */
  gatewayPort?: number;
  /** Which apps of dapr.yaml to run; all when not given. */
  apps?: string[];
  /**
   * More than one instance of an app, each beside its own sidecar under the same app id:
   * `{ gateway: 2 }` adds `gateway-2` (process `gateway-2`, sidecar `gateway-2-dapr`).
   */
  replicas?: Record<string, number>;
  /** Apps that run elsewhere (in a test process, say) and get only a sidecar from here. */
  sidecarsOnly?: Array<{ appId: string; appPort: number }>;
  /** Extra variables for every service, and per app. */
  env?: Record<string, string>;
  appEnv?: Record<string, Record<string, string>>;
  extraResourcesPaths?: string[];
  /**
   * Every app may publish and subscribe to every topic: the broker's component without
   * its topic scopes (copyWithOpenTopics), for tests whose own sidecar stands in for a
   * producer. Off by default: only a topic's owner publishes it.
   */
  openTopics?: boolean;
  /**
   * Where services with a migrations/ folder keep their data: a database each on one private
   * PostgreSQL in <dataDir>/postgres (the default), or each its own embedded PGlite in
   * <dataDir>/pglite/<app>. A DATABASE_URL in `appEnv` wins over either.
   */
  database?: 'postgres' | 'pglite';
  /**
   * The pub/sub broker: components/<profile>/ is loaded instead of components/redis/, and
   * the supervisor starts that broker privately. Default: SHOP_BROKER, else redis.
   */
  broker?: BrokerProfile;
  /**
   * The Dapr state store (read caches): components/statestore/<profile>/. `postgresql`
   * keeps it in a database of the private PostgreSQL. Default: SHOP_STATE_STORE, else redis.
   */
  stateStore?: StateStoreProfile;
  /** fsync on (the default); off for a throw-away shop, where nothing must survive a crash. */
  durable?: boolean;
  /** 'console' prefixes each line with its process name; 'files' writes logs/<name>.log. */
  output?: 'console' | 'files';
  daprLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * More arguments for a process, by its name: for a service (`gateway`), flags to node
   * before its script; for a sidecar (`gateway-dapr`), to daprd. `npm run profile` opens
   * each one's inspector or pprof server this way.
   */
  extraArgs?: Record<string, string[]>;
  /**
   * Runs a private Jaeger and Prometheus: every service gets OTEL_EXPORTER_OTLP_ENDPOINT,
   * every sidecar exports its traces to Jaeger, and Prometheus scrapes every service and
   * sidecar. Off unless asked (npm start asks, through SHOP_OBSERVABILITY).
   */
  observability?: boolean;
  /**
   * With observability on, the share of traces kept (0 to 1): every sidecar's samplingRate
   * and every service's parent-based ratio sampler. Unset, the sidecars' configuration and
   * the services' own default (every trace) stand. npm start takes SHOP_TRACE_SAMPLING.
   */
  traceSampling?: number;
  /**
   * Once the shop is ready, a process that exits unexpectedly is started again after a
   * backoff, as Kubernetes restarts a container, and its dependants wait for it
   * (restart-policy.ts); only a crash loop stops the shop. npm start heals; tests that
   * kill and restart processes by hand leave it off, and any exit then stops the shop.
   */
  heal?: boolean;
  /** With `heal`, the restart policy's numbers (defaultRestartPolicy for the rest). */
  restartPolicy?: Partial<RestartPolicy>;
  /**
   * Called once when a process dies that nobody stopped (with `heal`, once one has
   * crash-looped); the shop has stopped by then.
   */
  onCrash?: (exit: ExitInfo) => void;
  /** Aborting it while the shop is starting stops what has started and rejects. */
  signal?: AbortSignal;
};

export type StateStoreProfile = (typeof stateStoreProfiles)[number];

export type RunningApp = {
  appId: string;
  /** `appId`, or `<appId>-<n>` for the nth replica; its key in RunningShop.apps. */
  instance: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  /** Made for this instance alone: what its sidecar presents to it (APP_API_TOKEN). */
  appApiToken: string;
  /** Made for this instance alone: what its sidecar's API asks of callers (DAPR_API_TOKEN). */
  daprApiToken: string;
  /** Where the service serves GET /metrics (METRICS_PORT); its app port never does. */
  metricsPort: number;
  /** daprd's own metrics. */
  daprMetricsPort: number;
  /** Process names in the group, for stop/kill: the app (if run here) and `<appId>-dapr`. */
  processName: string | undefined;
  sidecarName: string;
};

export type RunningShop = {
  gatewayUrl: string | undefined;
  /**
   * Always runs: the gateway's rate limits, the redis state store and the redis broker.
   * Its password is made once per data folder (<dataDir>/redis-password).
   */
  redis: RedisHandle;
  /** The pub/sub broker the sidecars use (for redis, the Redis above). */
  broker: BrokerHandle;
  stateStore: StateStoreProfile;
  /** The private PostgreSQL, unless the shop runs on PGlite. */
  postgres: PostgresHandle | undefined;
  /** The private FerretDB, when a selected app keeps documents (see usesDocumentDatabase). */
  ferretdb: FerretDBHandle | undefined;
  /** The private mail server that notifications' email binding delivers to, when it runs. */
  mailpit: MailpitHandle | undefined;
  /** The private trace store and metrics server, when observability is on. */
  jaeger: JaegerHandle | undefined;
  prometheus: PrometheusHandle | undefined;
  apps: Record<string, RunningApp>;
  dataDir: string;
  group: ProcessGroup;
  /** Stops services first, then sidecars, then infrastructure. */
  stop(): Promise<void>;
};

const readyTimeoutMs = 90_000;

// One V8 helper thread per service: seven services share two cores. The young generation
// may grow to 16 MiB: at 1 MiB (~12 MiB less per service at idle) the scavenger took 9-19%
// of each service's CPU under load, 1-12% at 16 (npm run profile, docs/benchmarks.md); the
// shop at idle is 1.0 GiB with it, within its 1.2 GiB bound.
const nodeMemoryFlags = ['--max-semi-space-size=16', '--v8-pool-size=1'];

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  group: ProcessGroup,
  signal: AbortSignal | undefined,
): Promise<void> {
  // A test's logs go with its folder: the last lines say why it died.
  const died = () =>
    `${what} exited before it was ready; its last lines:\n${group.recentOutput(what).join('\n')}`;
  await pollUntil(async () => ((await probe()) ? true : undefined), {
    what: `${what} to be ready`,
    timeoutMs: readyTimeoutMs,
    ...(signal ? { signal } : {}),
    giveUpIf: () => (group.has(what) ? undefined : died()),
  });
}

async function answers(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(1_000) });
  await res.body?.cancel();
  return res.ok;
}

function consoleSink(): OutputSink {
  const width = 20;
  return (name, line) => process.stdout.write(`${name.padEnd(width)}| ${line}\n`);
}

function fileSink(logDir: string): { sink: OutputSink; close(): void } {
  mkdirSync(logDir, { recursive: true });
  const files = new Map<string, WriteStream>();
  return {
    sink: (name, line) => {
      let file = files.get(name);
      if (!file) {
        file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
        files.set(name, file);
      }
      file.write(`${line}\n`);
    },
    close: () => {
      for (const file of files.values()) file.end();
    },
  };
}

/**
 * Starts the shop on this machine: a private Redis and PostgreSQL, then each service beside its own
 * daprd, and waits until every sidecar and every service reports ready. Used by
 * `npm start` and by the end-to-end tests alike.
 */
export async function startShop(options: ShopOptions): Promise<RunningShop> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const manifest = loadManifest(repoRoot);
  const daprd = resolveDaprd(repoRoot);
  // Built (once) before anything starts, as daprd is: a build takes minutes.
  const jaeger = options.observability ? resolveJaeger(repoRoot) : undefined;
  mkdirSync(options.dataDir, { recursive: true });
  // A sidecar drawn the gateway's fixed port would refuse to start ("conflicts with
  // app-port"), seen once when a test picked GATEWAY_PORT in its own process.
  if (options.gatewayPort) claimPort(options.gatewayPort);
  const ports = await freePorts(shopPortCount(options, manifest));
  const plan = planShop(options, { manifest, ports });
  const shop = createRunningShop(plan, options);
  try {
    const infra = await startInfrastructure(shop, plan, { repoRoot, jaeger });
    if (plan.openTopicsCopy) copyWithOpenTopics(plan.openTopicsCopy.from, plan.openTopicsCopy.to);
    for (const instance of plan.instances)
      startInstance(shop, daprd, plan, instance, infra, options);
    await Promise.all(plan.instances.map((app) => waitUntilReady(shop.group, app, options.signal)));
    const gateway = shop.apps.gateway;
    if (gateway?.processName) shop.gatewayUrl = `http://127.0.0.1:${gateway.appPort}`;
    // While starting, a death still fails the start at once: healing begins when all is up.
    if (options.heal) healFromNowOn(shop, options);
    return shop;
  } catch (error) {
    await shop.stop();
    throw error;
  }
}

/** The shop's handle before anything runs: its process group, and a stop in stages. */
function createRunningShop(plan: ShopPlan, options: ShopOptions): RunningShop {
  const files = options.output === 'files' ? fileSink(join(plan.dataDir, 'logs')) : undefined;
  let crashed = false;
  let stopping: Promise<void> | undefined;
  const apps: Record<string, RunningApp> = {};
  const group: ProcessGroup = new ProcessGroup({
    output: files?.sink ?? consoleSink(),
    onUnexpectedExit: (exit) => {
      if (crashed || stopping) return;
      crashed = true;
      process.stderr.write(
        `shop: ${exit.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal}); stopping everything\n`,
      );
      void shop.stop().then(() => options.onCrash?.(exit));
    },
  });
  const shop: RunningShop = {
    gatewayUrl: undefined,
    redis: undefined as unknown as RedisHandle,
    broker: undefined as unknown as BrokerHandle,
    stateStore: plan.stateStore,
    postgres: undefined,
    ferretdb: undefined,
    mailpit: undefined,
    jaeger: undefined,
    prometheus: undefined,
    apps,
    dataDir: plan.dataDir,
    group,
    stop() {
      stopping ??= stopInStages(shop).finally(() => files?.close());
      return stopping;
    },
  };
  return shop;
}

/** From now on the shop restarts what dies, and stops in order only on a crash loop. */
function healFromNowOn(shop: RunningShop, options: ShopOptions): void {
  shop.group.heal({
    ...(options.restartPolicy && { policy: options.restartPolicy }),
    onCrashLoop: (loop) => {
      process.stderr.write(`${describeCrashLoop(loop)}\n`);
      void shop.stop().then(() => options.onCrash?.(loop.exit));
    },
  });
}

export function describeCrashLoop({ name, exit, quickExits, lastLines }: CrashLoop): string {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  const lines = lastLines.length > 0 ? lastLines.join('\n') : '(none)';
  return `shop: ${name} is crash-looping: ${quickExits} exits in a row, the last: ${how}; its last lines:\n${lines}\nshop: stopping everything`;
}

/** Services first, then sidecars, then the infrastructure, the broker last. */
async function stopInStages(shop: RunningShop): Promise<void> {
  const apps = Object.values(shop.apps);
  await shop.group.stopInStages([
    apps.flatMap((a) => (a.processName ? [a.processName] : [])),
    apps.map((a) => a.sidecarName),
    [
      ...['redis', 'postgres', 'ferretdb', mailpitProcessName],
      ...[jaegerProcessName, prometheusProcessName],
      ...(shop.broker?.processNames ?? []),
    ],
  ]);
  await shop.broker?.stop();
}

/**
 * Redis, the broker, PostgreSQL, Jaeger and Prometheus, the mail server and FerretDB, as
 * the plan wants them.
 */
async function startInfrastructure(
  shop: RunningShop,
  plan: ShopPlan,
  { repoRoot, jaeger }: { repoRoot: string; jaeger: string | undefined },
): Promise<RunningInfrastructure> {
  const { group, dataDir } = { group: shop.group, dataDir: plan.dataDir };
  shop.redis = await startRedis(group, dataDir, plan.redisPort, {
    password: ensureRedisPassword(dataDir),
  });
  shop.broker = await startBroker(plan.broker, {
    group,
    repoRoot,
    dir: join(dataDir, plan.broker),
    topics: shopTopics(repoRoot),
    durable: plan.durable,
    redis: shop.redis,
  });
  const databases = await startDatabases(shop, plan);
  if (jaeger) await startObservability(shop, plan, { repoRoot, jaeger });
  if (plan.mail) shop.mailpit = await startMailpit(group, { repoRoot, dataDir, ...plan.mail });
  const mongoUrls: Record<string, string> = {};
  if (plan.documentApps.length > 0) {
    // On the shop's PostgreSQL when it runs one: FerretDB's SQLite backend reads a whole
    // collection for every query not by _id (docs/benchmarks.md, FerretDB's backend).
    const ferretdb = await startFerretDB(group, {
      binary: resolveFerretDB(repoRoot),
      dataDir: join(dataDir, 'ferretdb'),
      backend: shop.postgres
        ? { postgresqlUrl: await shop.postgres.ensureDatabase('ferretdb') }
        : { sqlite: true },
    });
    shop.ferretdb = ferretdb;
    for (const appId of plan.documentApps) mongoUrls[appId] = ferretdb.url(appId);
  }
  return {
    redis: shop.redis,
    brokerEnv: shop.broker.sidecarEnv,
    ...databases,
    secretsFile: await ensureLocalSecrets(dataDir),
    mail: shop.mailpit,
    mongoUrls,
  };
}

/**
 * Jaeger and Prometheus side by side, then the sidecars' configuration copied with its
 * traces exported to Jaeger (the copy every daprd of the plan is given).
 */
async function startObservability(
  shop: RunningShop,
  plan: ShopPlan,
  tools: { repoRoot: string; jaeger: string },
): Promise<void> {
  const observability = plan.observability;
  if (!observability) return;
  const { group, dataDir } = { group: shop.group, dataDir: plan.dataDir };
  const [jaeger, prometheus] = await Promise.all([
    startJaeger(group, { binary: tools.jaeger, dataDir, ports: observability.jaeger }),
    startPrometheus(group, {
      repoRoot: tools.repoRoot,
      dataDir,
      port: observability.prometheusPort,
      targets: observability.scrapeTargets,
    }),
  ]);
  shop.jaeger = jaeger;
  shop.prometheus = prometheus;
  const { from, to } = observability.daprConfig;
  writeDaprTracingConfig(from, to, jaeger.otlpGrpcAddress, observability.sampling);
}

/** The private PostgreSQL with a database per SQL app, and the state store's own database. */
async function startDatabases(
  shop: RunningShop,
  plan: ShopPlan,
): Promise<Pick<RunningInfrastructure, 'databaseUrls' | 'stateStoreUrl'>> {
  const databaseUrls: Record<string, string> = {};
  if (!plan.postgres) return { databaseUrls, stateStoreUrl: undefined };
  const postgres = await startPostgres(shop.group, {
    clusterDir: join(plan.dataDir, 'postgres'),
    durable: plan.durable,
  });
  shop.postgres = postgres;
  if (plan.sqlOnPostgres) {
    for (const appId of plan.sqlApps) databaseUrls[appId] = await postgres.ensureDatabase(appId);
  }
  // The state store's own database, which no service reads directly.
  const stateStoreUrl =
    plan.stateStore === 'postgresql' ? await postgres.ensureDatabase('dapr_state') : undefined;
  return { databaseUrls, stateStoreUrl };
}

/** The instance's sidecar, and its service when it runs here. */
function startInstance(
  shop: RunningShop,
  daprd: string,
  plan: ShopPlan,
  instance: PlannedInstance,
  infra: RunningInfrastructure,
  options: ShopOptions,
): void {
  const { app, internalGrpcPort: _port, daprdArgs, ...running } = instance;
  shop.apps[instance.instance] = running;
  shop.group.start({
    name: instance.sidecarName,
    command: daprd,
    args: daprdArgs,
    // The name registry's relative path in config.yaml resolves against this folder.
    cwd: plan.dataDir,
    env: sidecarEnv(instance, infra),
  });
  if (!app) return;
  const [command = 'node', ...args] = app.command;
  const isNode = command === 'node';
  shop.group.start({
    name: instance.instance,
    // Services run on the same Node as the supervisor (the project's Node 24).
    command: isNode ? process.execPath : command,
    args: isNode
      ? [...nodeMemoryFlags, ...(options.extraArgs?.[instance.instance] ?? []), ...args]
      : args,
    cwd: app.dir,
    env: serviceEnv(plan, instance, infra, options),
  });
}

/** Its sidecar answers /v1.0/healthz, then its service /readyz. */
async function waitUntilReady(
  group: ProcessGroup,
  app: RunningApp,
  signal: AbortSignal | undefined,
): Promise<void> {
  const daprUrl = `http://127.0.0.1:${app.daprHttpPort}/v1.0/healthz`;
  await waitFor(app.sidecarName, () => answers(daprUrl), group, signal);
  const name = app.processName;
  if (name) {
    const readyUrl = `http://127.0.0.1:${app.appPort}/readyz`;
    await waitFor(name, () => answers(readyUrl), group, signal);
  }
}

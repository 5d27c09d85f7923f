import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type BrokerHandle,
  type BrokerProfile,
  brokerProfiles,
  isBrokerProfile,
  shopTopics,
  startBroker,
} from '../brokers/profiles.ts';
import { type FerretDBHandle, resolveFerretDB, startFerretDB } from '../infra/ferretdb.ts';
import { type MailpitHandle, mailpitProcessName, startMailpit } from '../infra/mailpit.ts';
import { type PostgresHandle, startPostgres } from '../infra/postgres.ts';
import { type RedisHandle, startRedis } from '../infra/redis.ts';
import { ensureLocalSecrets, ensureRedisPassword, randomSecret } from '../infra/secrets.ts';
import { claimPort, freePorts } from '../process/ports.ts';
import { type ExitInfo, type OutputSink, ProcessGroup } from '../process/processes.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import { resolveDaprd } from '../toolchain/daprd.ts';
import { loadManifest, type ManifestApp } from './manifest.ts';
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
  /** Called once when a process dies that nobody stopped; the shop has stopped by then. */
  onCrash?: (exit: ExitInfo) => void;
  /** Aborting it while the shop is starting stops what has started and rejects. */
  signal?: AbortSignal;
};

export const stateStoreProfiles = ['redis', 'postgresql'] as const;
export type StateStoreProfile = (typeof stateStoreProfiles)[number];

/** The broker profile SHOP_BROKER names (redis when unset); throws on an unknown one. */
export function brokerFromEnv(env = process.env): BrokerProfile {
  const value = env.SHOP_BROKER || 'redis';
  if (!isBrokerProfile(value))
    throw new Error(`SHOP_BROKER=${value}: choose one of ${brokerProfiles.join(', ')}`);
  return value;
}

/** The state store profile SHOP_STATE_STORE names (redis when unset); throws on an unknown one. */
export function stateStoreFromEnv(env = process.env): StateStoreProfile {
  const value = env.SHOP_STATE_STORE || 'redis';
  if (!(stateStoreProfiles as readonly string[]).includes(value))
    throw new Error(`SHOP_STATE_STORE=${value}: choose one of ${stateStoreProfiles.join(', ')}`);
  return value as StateStoreProfile;
}

/**
 * dapr.yaml's resource folders with the broker and state store folders swapped for the
 * chosen profiles': components/redis -> components/<broker>, components/statestore/redis
 * -> components/statestore/<store>.
 */
export function profileResourcesPaths(
  paths: string[],
  broker: BrokerProfile,
  stateStore: StateStoreProfile,
): string[] {
  return paths.map((path) => {
    const parent = dirname(path);
    if (basename(parent) === 'statestore') return join(parent, stateStore);
    if (basename(parent) === 'components' && isBrokerProfile(basename(path)))
      return join(parent, broker);
    return path;
  });
}

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
  apps: Record<string, RunningApp>;
  dataDir: string;
  group: ProcessGroup;
  /** Stops services first, then sidecars, then infrastructure. */
  stop(): Promise<void>;
};

const readyTimeoutMs = 90_000;

// Seven services on one machine must stay within 1.2 GiB at idle. A 1 MiB young generation
// and one V8 helper thread save ~14 MiB per service (measured by `npm run bench`); an idle
// or lightly loaded service needs neither more.
const nodeMemoryFlags = ['--max-semi-space-size=1', '--v8-pool-size=1'];

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  alive: () => boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await probe().catch(() => false))) {
    signal?.throwIfAborted();
    if (!alive()) throw new Error(`${what} exited before it was ready (see its log)`);
    if (Date.now() > deadline)
      throw new Error(`${what} was not ready within ${readyTimeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

function dependsOn(app: ManifestApp, name: string): boolean {
  const manifest = JSON.parse(readFileSync(join(app.dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return manifest.dependencies?.[name] !== undefined;
}

/**
 * An app keeps documents when it depends on the `mongodb` driver, as one keeps SQL data
 * when it has migrations/; it gets a database of its own name on the private FerretDB.
 */
function usesDocumentDatabase(app: ManifestApp): boolean {
  return dependsOn(app, 'mongodb');
}

/** An app that talks to Redis itself (the gateway's rate limits) gets the shop's Redis too. */
function usesRedis(app: ManifestApp): boolean {
  return dependsOn(app, 'ioredis');
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
  const brokerProfile = options.broker ?? brokerFromEnv();
  const stateStore = options.stateStore ?? stateStoreFromEnv();
  mkdirSync(options.dataDir, { recursive: true });

  const selected: ManifestApp[] = options.apps
    ? options.apps.map((id) => {
        const app = manifest.apps.find((a) => a.appId === id);
        if (!app) throw new Error(`no app ${id} in dapr.yaml`);
        return app;
      })
    : manifest.apps;
  const sidecarsOnly = options.sidecarsOnly ?? [];

  const files = options.output === 'files' ? fileSink(join(options.dataDir, 'logs')) : undefined;
  let crashed = false;
  let stopping: Promise<void> | undefined;
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

  const extraReplicas = selected.flatMap((app) =>
    Array.from({ length: Math.max(0, (options.replicas?.[app.appId] ?? 1) - 1) }, (_, i) => ({
      app,
      instance: `${app.appId}-${i + 2}`,
    })),
  );
  const appCount = selected.length + extraReplicas.length + sidecarsOnly.length;
  // notifications' sidecar loads the email binding, which needs a mail server to point at.
  const needsMail = [...selected.map((a) => a.appId), ...sidecarsOnly.map((s) => s.appId)].includes(
    'notifications',
  );
  // A sidecar drawn the gateway's fixed port would refuse to start ("conflicts with
  // app-port"), seen once when a test picked GATEWAY_PORT in its own process.
  if (options.gatewayPort) claimPort(options.gatewayPort);
  const ports = await freePorts(1 + appCount * 6 + (needsMail ? 2 : 0));
  const nextPort = () => {
    const port = ports.shift();
    if (port === undefined) throw new Error('ran out of reserved ports');
    return port;
  };

  const apps: Record<string, RunningApp> = {};
  const shop: RunningShop = {
    gatewayUrl: undefined,
    redis: undefined as unknown as RedisHandle,
    broker: undefined as unknown as BrokerHandle,
    stateStore,
    postgres: undefined,
    ferretdb: undefined,
    mailpit: undefined,
    apps,
    dataDir: options.dataDir,
    group,
    stop() {
      stopping ??= (async () => {
        const appNames = Object.values(apps).flatMap((a) => (a.processName ? [a.processName] : []));
        const sidecarNames = Object.values(apps).map((a) => a.sidecarName);
        await group.stopInStages([
          appNames,
          sidecarNames,
          [
            'redis',
            'postgres',
            'ferretdb',
            mailpitProcessName,
            ...(shop.broker?.processNames ?? []),
          ],
        ]);
        await shop.broker?.stop();
        files?.close();
      })();
      return stopping;
    },
  };

  try {
    shop.redis = await startRedis(group, options.dataDir, nextPort(), {
      password: ensureRedisPassword(options.dataDir),
    });
    shop.broker = await startBroker(brokerProfile, {
      group,
      repoRoot,
      dir: join(options.dataDir, brokerProfile),
      topics: shopTopics(repoRoot),
      durable: options.durable ?? true,
      redis: shop.redis,
    });
    const withDatabase = selected.filter((app) => existsSync(join(app.dir, 'migrations')));
    const databaseUrls: Record<string, string> = {};
    const mongoUrls: Record<string, string> = {};
    const sqlDatabaseWanted = options.database !== 'pglite' && withDatabase.length > 0;
    if (sqlDatabaseWanted || stateStore === 'postgresql') {
      shop.postgres = await startPostgres(group, {
        clusterDir: join(options.dataDir, 'postgres'),
        durable: options.durable ?? true,
      });
    }
    if (shop.postgres && sqlDatabaseWanted) {
      for (const app of withDatabase) {
        databaseUrls[app.appId] = await shop.postgres.ensureDatabase(app.appId);
      }
    }
    // The state store's own database, which no service reads directly.
    const stateStoreUrl =
      stateStore === 'postgresql' ? await shop.postgres?.ensureDatabase('dapr_state') : undefined;
    if (needsMail) {
      shop.mailpit = await startMailpit(group, {
        repoRoot,
        dataDir: options.dataDir,
        smtpPort: nextPort(),
        httpPort: nextPort(),
      });
    }
    const withDocuments = selected.filter(usesDocumentDatabase);
    if (withDocuments.length > 0) {
      shop.ferretdb = await startFerretDB(group, {
        binary: resolveFerretDB(repoRoot),
        dataDir: join(options.dataDir, 'ferretdb'),
      });
      for (const app of withDocuments) mongoUrls[app.appId] = shop.ferretdb.url(app.appId);
    }
    const secretsFile = await ensureLocalSecrets(options.dataDir);
    const resourcesPaths = [
      ...profileResourcesPaths(manifest.resourcesPaths, brokerProfile, stateStore).map((path) =>
        options.openTopics && path.endsWith(join('components', brokerProfile))
          ? copyWithOpenTopics(path, join(options.dataDir, 'open-topics', brokerProfile))
          : path,
      ),
      ...(options.extraResourcesPaths ?? []),
    ];

    const startOne = (
      appId: string,
      app: ManifestApp | undefined,
      fixedAppPort?: number,
      instance = appId,
    ) => {
      const appPort =
        fixedAppPort ?? (instance === 'gateway' ? options.gatewayPort : undefined) ?? nextPort();
      const running: RunningApp = {
        appId,
        instance,
        appPort,
        daprHttpPort: nextPort(),
        daprGrpcPort: nextPort(),
        appApiToken: randomSecret(),
        daprApiToken: randomSecret(),
        metricsPort: nextPort(),
        daprMetricsPort: nextPort(),
        processName: app ? instance : undefined,
        sidecarName: `${instance}-dapr`,
      };
      const internalGrpcPort = nextPort();
      apps[instance] = running;
      const tokens = { APP_API_TOKEN: running.appApiToken, DAPR_API_TOKEN: running.daprApiToken };

      group.start({
        name: running.sidecarName,
        command: daprd,
        args: [
          '--app-id',
          appId,
          '--app-port',
          String(running.appPort),
          '--app-protocol',
          'http',
          '--app-channel-address',
          '127.0.0.1',
          '--dapr-listen-addresses',
          '127.0.0.1',
          '--dapr-http-port',
          String(running.daprHttpPort),
          '--dapr-grpc-port',
          String(running.daprGrpcPort),
          '--dapr-internal-grpc-port',
          String(internalGrpcPort),
          '--dapr-internal-grpc-listen-address',
          '127.0.0.1',
          '--metrics-port',
          String(running.daprMetricsPort),
          '--metrics-listen-address',
          '127.0.0.1',
          ...resourcesPaths.flatMap((path) => ['--resources-path', path]),
          '--config',
          manifest.configFile,
          '--log-level',
          options.daprLogLevel ?? 'warn',
          '--log-as-json',
          '--dapr-graceful-shutdown-seconds',
          '3',
          // Subscriptions are declarative (components/common/subscriptions.yaml).
          '--disable-init-endpoints',
          'config,subscribe',
        ],
        // The name registry's relative path in config.yaml resolves against this folder.
        cwd: options.dataDir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DAPR_HOST_IP: '127.0.0.1',
          REDIS_HOST: shop.redis.address,
          REDIS_PASSWORD: shop.redis.password ?? '',
          // The redis components' enableTLS reads it; an unset variable is "", not a bool.
          REDIS_TLS: 'false',
          ...shop.broker.sidecarEnv,
          ...(stateStoreUrl && { STATESTORE_POSTGRES_URL: stateStoreUrl }),
          SHOP_SECRETS_FILE: secretsFile,
          ...(shop.mailpit && {
            SMTP_HOST: shop.mailpit.smtpHost,
            SMTP_PORT: String(shop.mailpit.smtpPort),
            SMTP_USER: '',
            SMTP_PASSWORD: '',
          }),
          ...tokens,
        },
      });

      if (app) {
        const [command = 'node', ...args] = app.command;
        const isNode = command === 'node';
        group.start({
          name: instance,
          // Services run on the same Node as the supervisor (the project's Node 24).
          command: isNode ? process.execPath : command,
          args: isNode ? [...nodeMemoryFlags, ...args] : args,
          cwd: app.dir,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_ENV: process.env.NODE_ENV ?? 'development',
            ...(databaseUrls[appId]
              ? { DATABASE_URL: databaseUrls[appId] }
              : { PGLITE_DATA_DIR: join(options.dataDir, 'pglite', appId) }),
            ...(mongoUrls[appId] ? { MONGODB_URL: mongoUrls[appId] } : {}),
            ...(usesRedis(app)
              ? { REDIS_HOST: shop.redis.address, REDIS_PASSWORD: shop.redis.password ?? '' }
              : {}),
            ...app.env,
            ...options.env,
            ...options.appEnv?.[appId],
            APP_PORT: String(running.appPort),
            APP_HOST: '127.0.0.1',
            METRICS_PORT: String(running.metricsPort),
            DAPR_HTTP_PORT: String(running.daprHttpPort),
            DAPR_GRPC_PORT: String(running.daprGrpcPort),
            ...tokens,
          },
        });
      }
      return running;
    };

    const started = [
      ...selected.map((app) => startOne(app.appId, app)),
      ...extraReplicas.map(({ app, instance }) => startOne(app.appId, app, undefined, instance)),
      ...sidecarsOnly.map((s) => startOne(s.appId, undefined, s.appPort)),
    ];

    await Promise.all(
      started.map(async (app) => {
        const daprUrl = `http://127.0.0.1:${app.daprHttpPort}/v1.0/healthz`;
        await waitFor(
          app.sidecarName,
          () => answers(daprUrl),
          () => group.has(app.sidecarName),
          options.signal,
        );
        if (app.processName) {
          const name = app.processName;
          const readyUrl = `http://127.0.0.1:${app.appPort}/readyz`;
          await waitFor(
            name,
            () => answers(readyUrl),
            () => group.has(name),
            options.signal,
          );
        }
      }),
    );
    const gateway = apps.gateway;
    if (gateway?.processName) shop.gatewayUrl = `http://127.0.0.1:${gateway.appPort}`;
    return shop;
  } catch (error) {
    await shop.stop();
    throw error;
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type BrokerProfile, brokerProfiles, isBrokerProfile } from '../brokers/profiles.ts';
import type { JaegerPorts } from '../infra/jaeger.ts';
import type { ScrapeTarget } from '../infra/prometheus-server.ts';
import { randomSecret } from '../infra/secrets.ts';
import type { Manifest, ManifestApp } from './manifest.ts';
import type { RunningApp, ShopOptions, StateStoreProfile } from './shop.ts';

export const stateStoreProfiles = ['redis', 'postgresql'] as const;

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

/** One app instance (or a sidecar for an app run elsewhere) as the plan lays it out. */
export type PlannedInstance = RunningApp & {
  /** Its entry of dapr.yaml; undefined for a sidecar of an app that runs elsewhere. */
  app: ManifestApp | undefined;
  internalGrpcPort: number;
  daprdArgs: string[];
};

export type ShopPlan = {
  broker: BrokerProfile;
  stateStore: StateStoreProfile;
  dataDir: string;
  durable: boolean;
  redisPort: number;
  /** notifications' sidecar loads the email binding, which needs a mail server to point at. */
  mail: { smtpPort: number; httpPort: number } | undefined;
  /** Apps with a migrations/ folder, and whether they get databases of the private PostgreSQL. */
  sqlApps: string[];
  sqlOnPostgres: boolean;
  /** Whether the private PostgreSQL runs at all (for the apps or for the state store). */
  postgres: boolean;
  /** Apps that keep documents, each given a database of the private FerretDB. */
  documentApps: string[];
  /** Apps that talk to Redis themselves (the gateway's rate limits). */
  redisApps: string[];
  /** The broker's component folder to copy without topic scopes, and where (openTopics). */
  openTopicsCopy: { from: string; to: string } | undefined;
  resourcesPaths: string[];
  instances: PlannedInstance[];
  /** Jaeger and Prometheus, when the shop runs with observability on. */
  observability: ObservabilityPlan | undefined;
};

export type ObservabilityPlan = {
  jaeger: JaegerPorts;
  prometheusPort: number;
  /** Every service's OTEL_EXPORTER_OTLP_ENDPOINT: Jaeger's OTLP over HTTP. */
  otlpEndpoint: string;
  /** The sidecars' configuration, copied per run with its traces exported to Jaeger. */
  daprConfig: { from: string; to: string };
  /** The share of traces kept, when set (ShopOptions.traceSampling). */
  sampling: number | undefined;
  /** What Prometheus scrapes: each service's METRICS_PORT and each sidecar's metrics port. */
  scrapeTargets: ScrapeTarget[];
};

/** What the plan's environments need from the infrastructure once it runs. */
export type RunningInfrastructure = {
  redis: { address: string; password?: string | undefined };
  brokerEnv: Record<string, string>;
  stateStoreUrl: string | undefined;
  secretsFile: string;
  mail: { smtpHost: string; smtpPort: number } | undefined;
  databaseUrls: Record<string, string>;
  mongoUrls: Record<string, string>;
};

function selectApps(options: ShopOptions, manifest: Manifest): ManifestApp[] {
  if (!options.apps) return manifest.apps;
  return options.apps.map((id) => {
    const app = manifest.apps.find((a) => a.appId === id);
    if (!app) throw new Error(`no app ${id} in dapr.yaml`);
    return app;
  });
}

type Slot = { appId: string; app: ManifestApp | undefined; instance: string; appPort?: number };

/** Every instance to run: the selected apps, their extra replicas, then sidecars alone. */
function slotsOf(options: ShopOptions, manifest: Manifest): Slot[] {
  const selected = selectApps(options, manifest);
  const replicas = selected.flatMap((app) =>
    Array.from({ length: Math.max(0, (options.replicas?.[app.appId] ?? 1) - 1) }, (_, i) => ({
      appId: app.appId,
      app,
      instance: `${app.appId}-${i + 2}`,
    })),
  );
  return [
    ...selected.map((app) => ({ appId: app.appId, app, instance: app.appId })),
    ...replicas,
    ...(options.sidecarsOnly ?? []).map((s) => ({
      appId: s.appId,
      app: undefined,
      instance: s.appId,
      appPort: s.appPort,
    })),
  ];
}

const portsPerInstance = 6;
/** Jaeger's four (OTLP gRPC and HTTP, query HTTP and gRPC) and Prometheus's one. */
const observabilityPorts = 5;

function needsMail(slots: Slot[]): boolean {
  return slots.some((slot) => slot.appId === 'notifications');
}

/**
 * How many free ports planShop takes: Redis, six per instance, two for the mail server,
 * five for Jaeger and Prometheus.
 */
export function shopPortCount(options: ShopOptions, manifest: Manifest): number {
  const slots = slotsOf(options, manifest);
  const extra = (needsMail(slots) ? 2 : 0) + (options.observability ? observabilityPorts : 0);
  return 1 + slots.length * portsPerInstance + extra;
}

function dependsOn(app: ManifestApp, name: string): boolean {
  const manifest = JSON.parse(readFileSync(join(app.dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return manifest.dependencies?.[name] !== undefined;
}

/**
 * Lays out the shop without starting anything: which infrastructure runs, every port, the
 * tokens, and each sidecar's arguments. `ports` are free ports, at least shopPortCount.
 */
export function planShop(
  options: ShopOptions,
  context: { manifest: Manifest; ports: number[]; secret?: () => string },
): ShopPlan {
  const { manifest } = context;
  const ports = [...context.ports];
  const nextPort = () => {
    const port = ports.shift();
    if (port === undefined) throw new Error('ran out of reserved ports');
    return port;
  };
  const slots = slotsOf(options, manifest);
  const selected = selectApps(options, manifest);
  const broker = options.broker ?? brokerFromEnv();
  const stateStore = options.stateStore ?? stateStoreFromEnv();
  const sqlApps = selected.filter((app) => existsSync(join(app.dir, 'migrations')));
  const sqlOnPostgres = options.database !== 'pglite' && sqlApps.length > 0;
  const redisPort = nextPort();
  const mail = needsMail(slots) ? { smtpPort: nextPort(), httpPort: nextPort() } : undefined;
  const observability = options.observability
    ? planObservability(options, manifest, nextPort)
    : undefined;
  const { resourcesPaths, openTopicsCopy } = planResources(options, manifest, broker, stateStore);
  const plan: ShopPlan = {
    broker,
    stateStore,
    dataDir: options.dataDir,
    durable: options.durable ?? true,
    redisPort,
    mail,
    sqlApps: sqlApps.map((app) => app.appId),
    sqlOnPostgres,
    postgres: sqlOnPostgres || stateStore === 'postgresql',
    documentApps: selected.filter((app) => dependsOn(app, 'mongodb')).map((app) => app.appId),
    redisApps: selected.filter((app) => dependsOn(app, 'ioredis')).map((app) => app.appId),
    openTopicsCopy,
    resourcesPaths,
    instances: [],
    observability,
  };
  const secret = context.secret ?? randomSecret;
  for (const slot of slots) {
    plan.instances.push(planInstance(slot, options, manifest, plan, nextPort, secret));
  }
  if (observability) observability.scrapeTargets = scrapeTargetsOf(plan.instances);
  return plan;
}

/** Jaeger's and Prometheus's ports; the scrape targets follow once the instances are laid out. */
function planObservability(
  options: ShopOptions,
  manifest: Manifest,
  nextPort: () => number,
): ObservabilityPlan {
  const jaeger = {
    otlpGrpc: nextPort(),
    otlpHttp: nextPort(),
    queryHttp: nextPort(),
    queryGrpc: nextPort(),
  };
  return {
    jaeger,
    prometheusPort: nextPort(),
    otlpEndpoint: `http://127.0.0.1:${jaeger.otlpHttp}`,
    daprConfig: {
      from: manifest.configFile,
      to: join(options.dataDir, 'observability', 'dapr-config.yaml'),
    },
    sampling: options.traceSampling,
    scrapeTargets: [],
  };
}

function scrapeTargetsOf(instances: PlannedInstance[]): ScrapeTarget[] {
  return instances.flatMap((instance): ScrapeTarget[] => [
    ...(instance.processName
      ? [{ job: 'services' as const, instance: instance.processName, port: instance.metricsPort }]
      : []),
    { job: 'daprd', instance: instance.sidecarName, port: instance.daprMetricsPort },
  ]);
}

function planResources(
  options: ShopOptions,
  manifest: Manifest,
  broker: BrokerProfile,
  stateStore: StateStoreProfile,
): Pick<ShopPlan, 'resourcesPaths' | 'openTopicsCopy'> {
  let openTopicsCopy: ShopPlan['openTopicsCopy'];
  const paths = profileResourcesPaths(manifest.resourcesPaths, broker, stateStore).map((path) => {
    if (!options.openTopics || !path.endsWith(join('components', broker))) return path;
    openTopicsCopy = { from: path, to: join(options.dataDir, 'open-topics', broker) };
    return openTopicsCopy.to;
  });
  return { resourcesPaths: [...paths, ...(options.extraResourcesPaths ?? [])], openTopicsCopy };
}

function planInstance(
  slot: Slot,
  options: ShopOptions,
  manifest: Manifest,
  plan: ShopPlan,
  nextPort: () => number,
  secret: () => string,
): PlannedInstance {
  const appPort =
    slot.appPort ?? (slot.instance === 'gateway' ? options.gatewayPort : undefined) ?? nextPort();
  const instance: PlannedInstance = {
    appId: slot.appId,
    instance: slot.instance,
    appPort,
    daprHttpPort: nextPort(),
    daprGrpcPort: nextPort(),
    appApiToken: secret(),
    daprApiToken: secret(),
    metricsPort: nextPort(),
    daprMetricsPort: nextPort(),
    processName: slot.app ? slot.instance : undefined,
    sidecarName: `${slot.instance}-dapr`,
    app: slot.app,
    internalGrpcPort: nextPort(),
    daprdArgs: [],
  };
  const configFile = plan.observability?.daprConfig.to ?? manifest.configFile;
  instance.daprdArgs = daprdArgs(instance, plan.resourcesPaths, configFile, options);
  return instance;
}

function daprdArgs(
  instance: PlannedInstance,
  resourcesPaths: string[],
  configFile: string,
  options: ShopOptions,
): string[] {
  const loopback = '127.0.0.1';
  return [
    ...['--app-id', instance.appId, '--app-port', String(instance.appPort)],
    ...['--app-protocol', 'http', '--app-channel-address', loopback],
    ...['--dapr-listen-addresses', loopback],
    ...['--dapr-http-port', String(instance.daprHttpPort)],
    ...['--dapr-grpc-port', String(instance.daprGrpcPort)],
    ...['--dapr-internal-grpc-port', String(instance.internalGrpcPort)],
    ...['--dapr-internal-grpc-listen-address', loopback],
    ...['--metrics-port', String(instance.daprMetricsPort), '--metrics-listen-address', loopback],
    ...resourcesPaths.flatMap((path) => ['--resources-path', path]),
    ...['--config', configFile],
    ...['--log-level', options.daprLogLevel ?? 'warn', '--log-as-json'],
    ...['--dapr-graceful-shutdown-seconds', '3'],
    // Subscriptions are declarative (components/common/subscriptions.yaml).
    ...['--disable-init-endpoints', 'config,subscribe'],
    ...(options.extraArgs?.[instance.sidecarName] ?? []),
  ];
}

function tokensOf(instance: PlannedInstance): Record<string, string> {
  return { APP_API_TOKEN: instance.appApiToken, DAPR_API_TOKEN: instance.daprApiToken };
}

/** What a sidecar's components read by envRef, and its tokens. */
export function sidecarEnv(
  instance: PlannedInstance,
  infra: RunningInfrastructure,
): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DAPR_HOST_IP: '127.0.0.1',
    REDIS_HOST: infra.redis.address,
    REDIS_PASSWORD: infra.redis.password ?? '',
    // The redis components' enableTLS reads it; an unset variable is "", not a bool.
    REDIS_TLS: 'false',
    ...infra.brokerEnv,
    ...(infra.stateStoreUrl && { STATESTORE_POSTGRES_URL: infra.stateStoreUrl }),
    SHOP_SECRETS_FILE: infra.secretsFile,
    ...(infra.mail && {
      SMTP_HOST: infra.mail.smtpHost,
      SMTP_PORT: String(infra.mail.smtpPort),
      SMTP_USER: '',
      SMTP_PASSWORD: '',
    }),
    ...tokensOf(instance),
  };
}

/**
 * A service's environment: its storage and trace exporter, dapr.yaml's variables, then the
 * caller's (every app's, then this app's), and last what the supervisor decides (ports,
 * tokens).
 */
export function serviceEnv(
  plan: ShopPlan,
  instance: PlannedInstance,
  infra: RunningInfrastructure,
  options: Pick<ShopOptions, 'env' | 'appEnv'>,
): Record<string, string | undefined> {
  const { appId } = instance;
  const databaseUrl = infra.databaseUrls[appId];
  const mongoUrl = infra.mongoUrls[appId];
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    ...(databaseUrl
      ? { DATABASE_URL: databaseUrl }
      : { PGLITE_DATA_DIR: join(plan.dataDir, 'pglite', appId) }),
    ...(mongoUrl ? { MONGODB_URL: mongoUrl } : {}),
    ...(plan.redisApps.includes(appId)
      ? { REDIS_HOST: infra.redis.address, REDIS_PASSWORD: infra.redis.password ?? '' }
      : {}),
    // Before the caller's variables: an endpoint of their own wins.
    ...(plan.observability && { OTEL_EXPORTER_OTLP_ENDPOINT: plan.observability.otlpEndpoint }),
    ...(plan.observability?.sampling !== undefined && {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(plan.observability.sampling),
    }),
    ...instance.app?.env,
    ...options.env,
    ...options.appEnv?.[appId],
    APP_PORT: String(instance.appPort),
    APP_HOST: '127.0.0.1',
    METRICS_PORT: String(instance.metricsPort),
    DAPR_HTTP_PORT: String(instance.daprHttpPort),
    DAPR_GRPC_PORT: String(instance.daprGrpcPort),
    ...tokensOf(instance),
  };
}

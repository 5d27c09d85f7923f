import { describe, expect, it } from 'vitest';
import { findRepoRoot } from '../process/repo-root.ts';
import { loadManifest } from './manifest.ts';
import {
  type PlannedInstance,
  planShop,
  type RunningInfrastructure,
  serviceEnv,
  shopPortCount,
  sidecarEnv,
} from './plan.ts';
import type { ShopOptions } from './shop.ts';

const manifest = loadManifest(findRepoRoot(import.meta.dirname));
const dataDir = '/tmp/shop-plan-test';

/** A plan on made-up ports (10000, 10001, ...): nothing is started or bound. */
function plan(options: Partial<ShopOptions> = {}) {
  const all = { dataDir, broker: 'redis', stateStore: 'redis', ...options } as ShopOptions;
  const ports = Array.from({ length: shopPortCount(all, manifest) }, (_, i) => 10_000 + i);
  let secrets = 0;
  return planShop(all, { manifest, ports, secret: () => `secret-${++secrets}` });
}

const infra: RunningInfrastructure = {
  redis: { address: '127.0.0.1:6390', password: 'redis-password' },
  brokerEnv: { RABBITMQ_URL: 'amqp://x' },
  stateStoreUrl: undefined,
  secretsFile: '/tmp/secrets.json',
  mail: undefined,
  databaseUrls: { orders: 'postgres://orders' },
  mongoUrls: {},
};

function argAfter(instance: PlannedInstance, flag: string): string[] {
  return instance.daprdArgs.flatMap((arg, i) =>
    arg === flag ? [instance.daprdArgs[i + 1] as string] : [],
  );
}

function portsOf(instance: PlannedInstance): number[] {
  const { appPort, daprHttpPort, daprGrpcPort, metricsPort, daprMetricsPort } = instance;
  return [
    appPort,
    daprHttpPort,
    daprGrpcPort,
    metricsPort,
    daprMetricsPort,
    instance.internalGrpcPort,
  ];
}

describe('planShop', () => {
  instanceAndPortCases();
  brokerAndSidecarCases();
  environmentCases();
  observabilityCases();
});

function instanceAndPortCases() {
  it('runs every app of dapr.yaml, each beside its own sidecar', () => {
    const { instances } = plan();
    expect(instances.map((i) => i.appId)).toEqual(manifest.apps.map((a) => a.appId));
    for (const instance of instances) {
      expect(instance.sidecarName).toBe(`${instance.appId}-dapr`);
      expect(instance.processName).toBe(instance.appId);
    }
  });

  it('gives every port to one use only', () => {
    const shop = plan({ replicas: { gateway: 2 } });
    const used = [shop.redisPort, ...shop.instances.flatMap(portsOf)];
    if (shop.mail) used.push(shop.mail.smtpPort, shop.mail.httpPort);
    expect(new Set(used).size).toBe(used.length);
    expect(used.length).toBe(shopPortCount({ dataDir, replicas: { gateway: 2 } }, manifest));
  });

  it('gives the gateway the port asked for, and each instance tokens of its own', () => {
    const shop = plan({ gatewayPort: 18_181 });
    const gateway = shop.instances.find((i) => i.appId === 'gateway');
    expect(gateway?.appPort).toBe(18_181);
    const tokens = shop.instances.flatMap((i) => [i.appApiToken, i.daprApiToken]);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('names the app id, its ports, the resources and the config in daprd arguments', () => {
    const shop = plan();
    const orders = shop.instances.find((i) => i.appId === 'orders') as PlannedInstance;
    expect(argAfter(orders, '--app-id')).toEqual(['orders']);
    expect(argAfter(orders, '--app-port')).toEqual([String(orders.appPort)]);
    expect(argAfter(orders, '--dapr-http-port')).toEqual([String(orders.daprHttpPort)]);
    expect(argAfter(orders, '--dapr-grpc-port')).toEqual([String(orders.daprGrpcPort)]);
    expect(argAfter(orders, '--metrics-port')).toEqual([String(orders.daprMetricsPort)]);
    expect(argAfter(orders, '--resources-path')).toEqual(shop.resourcesPaths);
    expect(argAfter(orders, '--config')).toEqual([manifest.configFile]);
  });

  it("adds a caller's extra daprd arguments to the named sidecar only", () => {
    const shop = plan({ extraArgs: { 'orders-dapr': ['--profile-port', '7001'] } });
    const of = (appId: string) => shop.instances.find((i) => i.appId === appId) as PlannedInstance;
    expect(argAfter(of('orders'), '--profile-port')).toEqual(['7001']);
    expect(argAfter(of('users'), '--profile-port')).toEqual([]);
  });
}

function brokerAndSidecarCases() {
  it('loads the chosen broker and state store folders', () => {
    const onRedis = plan().resourcesPaths;
    const onKafka = plan({ broker: 'kafka', stateStore: 'postgresql' }).resourcesPaths;
    expect(onRedis.some((path) => path.endsWith('components/redis'))).toBe(true);
    expect(onKafka.some((path) => path.endsWith('components/kafka'))).toBe(true);
    expect(onKafka.some((path) => path.endsWith('components/redis'))).toBe(false);
    expect(onKafka.some((path) => path.endsWith('statestore/postgresql'))).toBe(true);
    expect(plan({ stateStore: 'postgresql', database: 'pglite' }).postgres).toBe(true);
  });

  it('copies the broker folder without topic scopes only when topics are open', () => {
    expect(plan().openTopicsCopy).toBeUndefined();
    const open = plan({ openTopics: true });
    expect(open.openTopicsCopy?.to).toBe(`${dataDir}/open-topics/redis`);
    expect(open.resourcesPaths).toContain(`${dataDir}/open-topics/redis`);
  });

  it('runs sidecars alone for apps that run elsewhere, on their given port', () => {
    const shop = plan({ apps: ['catalog'], sidecarsOnly: [{ appId: 'probe', appPort: 4_444 }] });
    expect(shop.instances.map((i) => [i.appId, i.processName])).toEqual([
      ['catalog', 'catalog'],
      ['probe', undefined],
    ]);
    expect(shop.instances[1]?.appPort).toBe(4_444);
    expect(shop.mail).toBeUndefined();
  });
}

function environmentCases() {
  it("puts a caller's per-app variables into that app's environment only", () => {
    const options = { env: { LOG_LEVEL: 'debug' }, appEnv: { orders: { ORDER_TTL: '5m' } } };
    const shop = plan(options);
    const envOf = (appId: string) =>
      serviceEnv(
        shop,
        shop.instances.find((i) => i.appId === appId) as PlannedInstance,
        infra,
        options,
      );
    expect(envOf('orders')).toMatchObject({ ORDER_TTL: '5m', LOG_LEVEL: 'debug' });
    expect(envOf('catalog').ORDER_TTL).toBeUndefined();
    expect(envOf('orders').DATABASE_URL).toBe('postgres://orders');
    expect(envOf('catalog').PGLITE_DATA_DIR).toBe(`${dataDir}/pglite/catalog`);
  });

  it('lets the supervisor have the last word on ports and tokens', () => {
    const options = { appEnv: { orders: { APP_PORT: '1', APP_API_TOKEN: 'mine' } } };
    const shop = plan(options);
    const orders = shop.instances.find((i) => i.appId === 'orders') as PlannedInstance;
    const env = serviceEnv(shop, orders, infra, options);
    expect(env.APP_PORT).toBe(String(orders.appPort));
    expect(env.APP_API_TOKEN).toBe(orders.appApiToken);
    expect(sidecarEnv(orders, infra)).toMatchObject({
      RABBITMQ_URL: 'amqp://x',
      REDIS_PASSWORD: 'redis-password',
      DAPR_API_TOKEN: orders.daprApiToken,
    });
  });
}

function observabilityCases() {
  const orders = (shop: ReturnType<typeof plan>) =>
    shop.instances.find((i) => i.appId === 'orders') as PlannedInstance;

  it('plans no Jaeger or Prometheus unless observability is on', () => {
    const shop = plan();
    expect(shop.observability).toBeUndefined();
    expect(serviceEnv(shop, orders(shop), infra, {}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('gives Jaeger and Prometheus ports of their own', () => {
    const options = { dataDir, observability: true, replicas: { gateway: 2 } };
    const shop = plan(options);
    const observability = shop.observability as NonNullable<typeof shop.observability>;
    const used = [
      shop.redisPort,
      ...(shop.mail ? [shop.mail.smtpPort, shop.mail.httpPort] : []),
      ...Object.values(observability.jaeger),
      observability.prometheusPort,
      ...shop.instances.flatMap(portsOf),
    ];
    expect(new Set(used).size).toBe(used.length);
    expect(used.length).toBe(shopPortCount(options, manifest));
  });

  it("points every service's OTLP exporter at Jaeger, unless the caller names another", () => {
    const shop = plan({ observability: true });
    const endpoint = `http://127.0.0.1:${shop.observability?.jaeger.otlpHttp}`;
    expect(shop.observability?.otlpEndpoint).toBe(endpoint);
    for (const instance of shop.instances) {
      expect(serviceEnv(shop, instance, infra, {}).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(endpoint);
    }
    const own = { appEnv: { orders: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } } };
    const env = serviceEnv(shop, orders(shop), infra, own);
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://collector:4318');
  });

  it('gives every service a parent-based ratio sampler when a sampling share is set', () => {
    const unsampled = plan({ observability: true });
    const unset = serviceEnv(unsampled, orders(unsampled), infra, {});
    expect(unset.OTEL_TRACES_SAMPLER).toBeUndefined();
    const sampled = plan({ observability: true, traceSampling: 0.1 });
    expect(sampled.observability?.sampling).toBe(0.1);
    expect(serviceEnv(sampled, orders(sampled), infra, {})).toMatchObject({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
  });

  it("gives every sidecar the run's copy of the configuration, exporting to Jaeger", () => {
    const shop = plan({ observability: true });
    const copy = `${dataDir}/observability/dapr-config.yaml`;
    expect(shop.observability?.daprConfig).toEqual({ from: manifest.configFile, to: copy });
    for (const instance of shop.instances) expect(argAfter(instance, '--config')).toEqual([copy]);
  });

  it("scrapes every service's METRICS_PORT and every sidecar's metrics port", () => {
    const shop = plan({ observability: true, sidecarsOnly: [{ appId: 'probe', appPort: 4_444 }] });
    const targets = shop.observability?.scrapeTargets ?? [];
    const probe = shop.instances.find((i) => i.appId === 'probe') as PlannedInstance;
    expect(targets).toContainEqual({
      job: 'daprd',
      instance: 'probe-dapr',
      port: probe.daprMetricsPort,
    });
    expect(targets.filter((t) => t.instance === 'probe')).toEqual([]);
    const withService = shop.instances.filter((i) => i.processName);
    expect(targets.filter((t) => t.job === 'services')).toEqual(
      withService.map((i) => ({ job: 'services', instance: i.appId, port: i.metricsPort })),
    );
    expect(targets.filter((t) => t.job === 'daprd')).toHaveLength(shop.instances.length);
  });
}

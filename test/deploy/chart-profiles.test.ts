import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerProfiles, shopTopics, streamNameOf } from '@shop/devkit/brokers';
import { stateStoreProfiles } from '@shop/devkit/shop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartDir,
  helm,
  type K8sObject,
  named,
  ofKind,
  prepareHelm,
  renderChart,
  renderChartError,
  repoRoot,
  shippedFromComponents,
  yamlDocuments,
  yamlFiles,
} from './support/chart.ts';
import type { Workload } from './support/workloads.ts';

type Broker = (typeof brokerProfiles)[number];
type StateStore = (typeof stateStoreProfiles)[number];

const devDir = join(chartDir, 'dev');
const componentsDir = join(repoRoot, 'components');
const scratch = mkdtempSync(join(tmpdir(), 'shop-chart-profiles-'));
// Fixed tokens and Redis password, so two renderings of the same values are equal.
const tokens = [
  '--set',
  `apiTokens.seed=${'a'.repeat(20)}`,
  '--set',
  `redis.auth.password=${'r'.repeat(20)}`,
];
const enableAll = [
  'catalog',
  'gateway',
  'inventory',
  'notifications',
  'orders',
  'payments',
  'users',
].flatMap((name) => ['--set', `services.${name}.enabled=true`]);

/** The Dapr component type (and version) each profile's files must ship. */
const brokerTypes: Record<Broker, string> = {
  redis: 'pubsub.redis',
  rabbitmq: 'pubsub.rabbitmq',
  kafka: 'pubsub.kafka',
  nats: 'pubsub.jetstream',
};
const render = (args: string[] = [], chart = chartDir) =>
  renderChart([...tokens, ...args], { chart });
const renderError = (args: string[], chart = chartDir) => renderChartError(args, { chart });

const stateStoreTypes: Record<StateStore, { type: string; version: string }> = {
  redis: { type: 'state.redis', version: 'v1' },
  postgresql: { type: 'state.postgresql', version: 'v2' },
};

const brokerDir = (broker: string) => join(componentsDir, broker);
const stateStoreDir = (store: string) => join(componentsDir, 'statestore', store);

/**
 * What a folder's components read by envRef, from the parsed YAML: the chart finds the
 * same names with a regular expression, so this is also a check of that expression.
 */
function envRefsOf(dir: string): string[] {
  const names = yamlFiles(dir)
    .flatMap(yamlDocuments)
    .flatMap((doc) => (doc.spec?.metadata ?? []) as Array<{ envRef?: string }>)
    .flatMap((item) => (item.envRef ? [item.envRef] : []));
  return [...new Set(names)].sort();
}

/** `NAME=value` pairs of a dapr.io/env or dapr.io/env-from-secret annotation. */
function annotationPairs(value: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of value ? value.split(',') : []) {
    const at = pair.indexOf('=');
    pairs.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return pairs;
}

/** Each variable given from a Secret named after the section, key = the name in lower case. */
function secretEnvArgs(section: 'broker' | 'stateStore', names: string[]): string[] {
  return names.flatMap((name) => [
    '--set',
    `${section}.sidecarSecretEnv.${name}.secret=test-${section.toLowerCase()}`,
    '--set',
    `${section}.sidecarSecretEnv.${name}.key=${name.toLowerCase()}`,
  ]);
}

/**
 * What the chart gives the sidecars without being asked: REDIS_HOST in the default
 * broker.sidecarEnv, and what it derives from `redis` and broker.kafka (the password, TLS
 * and Kafka's authentication).
 */
const chartGives = [
  'REDIS_HOST',
  'REDIS_PASSWORD',
  'REDIS_TLS',
  'KAFKA_AUTH_TYPE',
  'KAFKA_DISABLE_TLS',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_MECHANISM',
];
/** Derived by the chart, so no value removes them. */
const derived = chartGives.filter((name) => name !== 'REDIS_HOST');

/** Values for a combination: what the chart does not already give comes from Secrets. */
function profileArgs(broker: string, store: string): string[] {
  const defaults = chartGives;
  const brokerEnv = envRefsOf(brokerDir(broker)).filter((name) => !defaults.includes(name));
  const storeEnv = envRefsOf(stateStoreDir(store)).filter((name) => !defaults.includes(name));
  return [
    '--set',
    `broker.profile=${broker}`,
    '--set',
    `stateStore.profile=${store}`,
    ...secretEnvArgs('broker', brokerEnv),
    ...secretEnvArgs('stateStore', storeEnv),
  ];
}

function natsJob(objects: K8sObject[]): Workload | undefined {
  return ofKind<Workload>(objects, 'Job').find((job) => job.metadata.name === 'nats-streams');
}

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('values.schema.json', () => {
  it('names exactly the profiles the code knows, and refuses others', () => {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
    expect(schema.properties.broker.properties.profile.enum).toEqual([...brokerProfiles]);
    expect(schema.properties.stateStore.properties.profile.enum).toEqual([...stateStoreProfiles]);
    for (const [value, path] of [
      ['broker.profile=mqtt', '/broker/profile'],
      ['broker.profile=common', '/broker/profile'],
      ['stateStore.profile=mysql', '/stateStore/profile'],
    ]) {
      const stderr = renderError(['--set', value as string]);
      expect(stderr, value).toContain(path as string);
    }
  });

  it('has a component folder for every profile it names', () => {
    for (const broker of brokerProfiles)
      expect(readdirSync(brokerDir(broker)), broker).toContain('pubsub.yaml');
    for (const store of stateStoreProfiles)
      expect(readdirSync(stateStoreDir(store)), store).toContain('statestore.yaml');
  });
});

describe.each(brokerProfiles)('broker profile %s', (broker) => {
  it.each(stateStoreProfiles)(
    'with the %s state store ships the files verbatim and hands every sidecar their variables',
    (store) => {
      const objects = render([...enableAll, ...profileArgs(broker, store)]);
      const shipped = shippedFromComponents(objects);
      const expected = [
        ...yamlFiles(join(componentsDir, 'common')),
        ...yamlFiles(brokerDir(broker)),
        ...yamlFiles(stateStoreDir(store)),
      ].flatMap(yamlDocuments);
      expect(shipped).toHaveLength(expected.length);
      for (const doc of expected) expect(shipped).toContainEqual(doc);

      const components = ofKind(shipped, 'Component');
      const pubsubs = components.filter((c) => String(c.spec.type).startsWith('pubsub.'));
      // The shop's events, and the live streams' broadcast on the same broker.
      expect(pubsubs.map((c) => [c.metadata.name, c.spec.type])).toEqual([
        ['pubsub', brokerTypes[broker]],
        ['broadcast', brokerTypes[broker]],
      ]);
      const stores = components.filter((c) => String(c.spec.type).startsWith('state.'));
      // The read caches' store, and the carts' (only the cart's sidecar loads it).
      expect(stores.map((c) => [c.metadata.name, c.spec.type, c.spec.version])).toEqual([
        ['cartstore', stateStoreTypes[store].type, stateStoreTypes[store].version],
        ['statestore', stateStoreTypes[store].type, stateStoreTypes[store].version],
      ]);
      expect(named(stores, 'cartstore').scopes).toEqual(['cart']);

      // Dapr resolves an envRef only from the sidecar's own environment.
      const needed = [
        ...new Set([...envRefsOf(brokerDir(broker)), ...envRefsOf(stateStoreDir(store))]),
      ];
      expect(needed.length).toBeGreaterThan(0);
      const deployments = ofKind<Workload>(objects, 'Deployment');
      expect(deployments).toHaveLength(8);
      for (const deployment of deployments) {
        const annotations = deployment.spec.template.metadata.annotations ?? {};
        const plain = annotationPairs(annotations['dapr.io/env']);
        const fromSecrets = annotationPairs(annotations['dapr.io/env-from-secret']);
        for (const name of needed) {
          const where = `${deployment.metadata.name} ${name}`;
          if (name === 'REDIS_PASSWORD') {
            expect(fromSecrets.get(name), where).toBe('shop-redis:password');
          } else if (chartGives.includes(name)) {
            expect(plain.has(name), where).toBe(true);
          } else {
            const section = envRefsOf(brokerDir(broker)).includes(name) ? 'broker' : 'statestore';
            expect(fromSecrets.get(name), where).toBe(`test-${section}:${name.toLowerCase()}`);
            expect(plain.has(name), where).toBe(false);
          }
        }
      }

      // Only the nats profile needs its streams made before the services start.
      expect(natsJob(objects) !== undefined).toBe(broker === 'nats');
    },
  );

  it('passes helm lint --strict with its variables given', () => {
    const result = helm(['lint', '--strict', chartDir, ...profileArgs(broker, 'postgresql')]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('fails the render, naming the variable and the value to set, when one is missing', () => {
    const names = envRefsOf(brokerDir(broker)).filter((name) => !derived.includes(name));
    for (const name of names) {
      // Every variable given but this one; null removes one the default values give.
      const defaults = chartGives;
      const others = names.filter((other) => other !== name && !defaults.includes(other));
      const stderr = renderError([
        '--set',
        `broker.profile=${broker}`,
        ...(defaults.includes(name) ? ['--set', `broker.sidecarEnv.${name}=null`] : []),
        ...secretEnvArgs('broker', others),
      ]);
      expect(stderr, name).toContain(
        `broker.profile ${broker}: components/${broker}/pubsub.yaml reads ${name} by envRef`,
      );
      expect(stderr, name).toContain(
        `broker.sidecarSecretEnv.${name}: { secret: <Secret>, key: <key> }`,
      );
    }
  });
});

describe('the state store profiles', () => {
  it('fail the render without the postgresql connection, naming stateStore.sidecarSecretEnv', () => {
    const [name, ...more] = envRefsOf(stateStoreDir('postgresql'));
    expect(more).toEqual([]);
    const stderr = renderError(['--set', 'stateStore.profile=postgresql']);
    // The first of the profile's files to read it: the carts' store, then the shared one.
    expect(stderr).toContain(
      `stateStore.profile postgresql: components/statestore/postgresql/cartstore.yaml reads ${name} by envRef`,
    );
    expect(stderr).toContain(
      `stateStore.sidecarSecretEnv.${name}: { secret: <Secret>, key: <key> }`,
    );
  });

  it('take a plain value as well as a Secret', () => {
    const objects = render([
      '--set',
      'stateStore.profile=postgresql',
      '--set',
      'stateStore.sidecarEnv.STATESTORE_POSTGRES_URL=postgres://shop@db:5432/state',
    ]);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      expect(annotationPairs(annotations['dapr.io/env']).get('STATESTORE_POSTGRES_URL')).toBe(
        'postgres://shop@db:5432/state',
      );
    }
  });

  it('refuse a plain value the dapr.io/env annotation cannot carry', () => {
    const stderr = renderError([
      '--set',
      'stateStore.profile=postgresql',
      '--set',
      'stateStore.sidecarEnv.STATESTORE_POSTGRES_URL=postgres://db/state?sslmode=require',
    ]);
    expect(stderr).toContain('the plain sidecar value of STATESTORE_POSTGRES_URL contains "="');
  });

  it('share the Redis variables with the redis broker, and refuse two values for one', () => {
    const stderr = renderError(['--set', 'stateStore.sidecarEnv.REDIS_HOST=cache:6379']);
    expect(stderr).toContain(
      'broker.sidecarEnv.REDIS_HOST and stateStore.sidecarEnv.REDIS_HOST differ',
    );
    // With another broker the state store's own value is the one the sidecars get.
    const objects = render([
      ...profileArgs('nats', 'redis'),
      '--set',
      'stateStore.sidecarEnv.REDIS_HOST=cache:6379',
    ]);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const env = deployment.spec.template.metadata.annotations?.['dapr.io/env'];
      expect(annotationPairs(env).get('REDIS_HOST'), deployment.metadata.name).toBe('cache:6379');
    }
  });
});

describe('an upgrade from the values before the profiles', () => {
  it('renders the redis profile as before: the same Redis (now with its password), the state store back', () => {
    const current = render(enableAll);
    for (const deployment of ofKind<Workload>(current, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      expect(annotations['dapr.io/env'], deployment.metadata.name).toBe(
        'REDIS_HOST=redis-master.redis.svc.cluster.local:6379,REDIS_TLS=false',
      );
      expect(annotations['dapr.io/env-from-secret'], deployment.metadata.name).toMatch(
        /(^|,)REDIS_PASSWORD=shop-redis:password(,|$)/,
      );
    }
    const store = named(ofKind(shippedFromComponents(current), 'Component'), 'statestore');
    expect(store.spec.type).toBe('state.redis');
    // `helm upgrade --reuse-values` keeps a release's old values, which have no stateStore.
    expect(render([...enableAll, '--set', 'stateStore=null'])).toEqual(current);
  });
});

describe('a profile the chart has no files for', () => {
  it('fails the render with the folder it looked for', () => {
    // A copy of the chart whose files/ holds only common/, the redis broker and the redis
    // state store (a real folder: writing through the link would write into components/).
    const chart = join(scratch, 'shop');
    cpSync(chartDir, chart, {
      recursive: true,
      filter: (source) => source !== join(chartDir, 'files'),
    });
    for (const folder of ['common', 'redis', 'statestore/redis'])
      cpSync(join(componentsDir, folder), join(chart, 'files', folder), { recursive: true });
    expect(render([], chart).length).toBeGreaterThan(0);
    expect(renderError(['--set', 'broker.profile=nats'], chart)).toContain(
      'broker.profile "nats": the chart has no files/nats/*.yaml (components/nats/ in the repository)',
    );
    expect(renderError(['--set', 'stateStore.profile=postgresql'], chart)).toContain(
      'stateStore.profile "postgresql": the chart has no files/statestore/postgresql/*.yaml',
    );
  });
});

describe('the nats profile', () => {
  const natsArgs = () => [...enableAll, ...profileArgs('nats', 'redis')];

  it('lists every topic of the shop as a subject by default', () => {
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
    expect(values.broker.nats.subjects).toEqual(shopTopics(repoRoot));
  });

  it('makes a file-backed stream per topic in a hook Job ahead of the migrations', () => {
    const objects = render(natsArgs());
    const job = natsJob(objects);
    if (!job) throw new Error('no nats-streams Job');
    const annotations = job.metadata.annotations ?? {};
    expect(annotations['helm.sh/hook']?.split(',')).toEqual(['pre-install', 'pre-upgrade']);
    const migrations = ofKind<Workload>(objects, 'Job').filter((j) => j !== job);
    expect(migrations.length).toBeGreaterThan(0);
    for (const migration of migrations) {
      const weight = Number(migration.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
      expect(Number(annotations['helm.sh/hook-weight']), migration.metadata.name).toBeLessThan(
        weight,
      );
    }

    const [container, ...others] = job.spec.template.spec.containers;
    if (!container) throw new Error('the Job has no container');
    expect(others).toEqual([]);
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
    expect(container.image).toBe(`natsio/nats-box:${values.broker.nats.image.tag}`);
    // A pinned release, never a moving tag.
    expect(values.broker.nats.image.tag).toMatch(/^\d+\.\d+\.\d+(-nonroot)?$/);
    // As hardened as the services: same pod and container security contexts, no token.
    const [deployment] = ofKind<Workload>(objects, 'Deployment');
    expect(job.spec.template.spec.securityContext).toEqual(
      deployment?.spec.template.spec.securityContext,
    );
    expect(container.securityContext).toEqual(
      deployment?.spec.template.spec.containers[0]?.securityContext,
    );
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(job.spec.template.spec).toMatchObject({ automountServiceAccountToken: false });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(job.spec.template.metadata.annotations?.['dapr.io/enabled']).toBeUndefined();

    // The broker's connection, from the Secret the sidecars read it from.
    for (const name of envRefsOf(brokerDir('nats'))) {
      expect(container.env?.find((env) => env.name === name)?.valueFrom?.secretKeyRef).toEqual({
        name: 'test-broker',
        key: name.toLowerCase(),
      });
    }

    // Each stream as `SHOP_BROKER=nats npm start` makes it, added or else edited.
    const script = container.args?.join('\n') ?? '';
    expect(container.command).toEqual(['sh', '-ec']);
    expect(script).toContain('nats stream ls --names');
    expect(script).toContain('nats stream add "$1" --config "/tmp/$1.json"');
    expect(script).toContain('nats stream edit "$1" --config "/tmp/$1.json" --force');
    const streams = [
      ...script.matchAll(/cat > \/tmp\/(\S+)\.json <<'EOF'\n(.*)\nEOF\nensure (\S+)/g),
    ].map(([, file, json, ensured]) => ({ file, ensured, config: JSON.parse(json as string) }));
    expect(streams.map((s) => s.config.subjects)).toEqual(shopTopics(repoRoot).map((t) => [t]));
    for (const { file, ensured, config } of streams) {
      const topic = config.subjects[0];
      expect(config).toMatchObject({
        name: streamNameOf(topic),
        storage: 'file',
        retention: 'limits',
        max_msgs: 100_000,
        discard: 'old',
        duplicate_window: 2 * 60 * 1_000_000_000,
        num_replicas: 1,
      });
      expect([file, ensured]).toEqual([config.name, config.name]);
    }
  });

  it('takes a plain NATS_URL as well, and refuses subjects that would share a stream', () => {
    const objects = render([
      '--set',
      'broker.profile=nats',
      '--set',
      'broker.sidecarEnv.NATS_URL=nats://nats.messaging:4222',
    ]);
    const container = natsJob(objects)?.spec.template.spec.containers[0];
    expect(container?.env?.find((env) => env.name === 'NATS_URL')?.value).toBe(
      'nats://nats.messaging:4222',
    );
    const stderr = renderError([
      ...profileArgs('nats', 'redis'),
      '--set-json',
      'broker.nats.subjects=["order.created","order_created"]',
    ]);
    expect(stderr).toContain(
      '"order.created" and "order_created" would share stream order_created',
    );
  });
});

describe('the kafka profile', () => {
  it('lists in values.yaml every topic a cluster without auto-creation must create', () => {
    const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
    const kafka = /^# kafka {5}[\s\S]*?(?=^# nats {6})/m.exec(text)?.[0] ?? '';
    const listed = new Set(kafka.match(/[a-z_]+\.[a-z_]+/g));
    for (const topic of shopTopics(repoRoot)) expect(listed, topic).toContain(topic);
  });
});

describe("Tilt's throw-away brokers and state store (charts/shop/dev)", () => {
  const tiltfile = readFileSync(join(repoRoot, 'Tiltfile'), 'utf8');
  const infra = () => yamlDocuments(join(devDir, 'infra.yaml'));

  it('are Kubernetes objects, one file per profile, and values files the chart accepts', () => {
    for (const file of yamlFiles(devDir)) {
      if (file.includes('/values-')) {
        expect(parse(readFileSync(file, 'utf8')), file).toBeTypeOf('object');
        continue;
      }
      for (const obj of yamlDocuments(file)) {
        expect(obj.apiVersion, file).toBeTruthy();
        expect(obj.kind, file).toBeTruthy();
        expect(obj.metadata?.name, file).toBeTruthy();
      }
    }
    for (const broker of brokerProfiles.filter((b) => b !== 'redis')) {
      expect(existsSync(join(devDir, `broker-${broker}.yaml`)), broker).toBe(true);
      expect(existsSync(join(devDir, `values-broker-${broker}.yaml`)), broker).toBe(true);
    }
    for (const store of stateStoreProfiles.filter((s) => s !== 'redis')) {
      expect(existsSync(join(devDir, `statestore-${store}.yaml`)), store).toBe(true);
      expect(existsSync(join(devDir, `values-statestore-${store}.yaml`)), store).toBe(true);
    }
  });

  it('are chosen in the Tiltfile by SHOP_BROKER and SHOP_STATE_STORE among the same profiles', () => {
    const list = (name: string) =>
      JSON.parse(
        (new RegExp(`^${name} = (\\[.*\\])$`, 'm').exec(tiltfile)?.[1] ?? '[]').replaceAll(
          "'",
          '"',
        ),
      );
    expect(list('BROKERS')).toEqual([...brokerProfiles]);
    expect(list('STATE_STORES')).toEqual([...stateStoreProfiles]);
    expect(tiltfile).toContain("os.getenv('SHOP_BROKER'");
    expect(tiltfile).toContain("os.getenv('SHOP_STATE_STORE'");
    expect(tiltfile).toContain("'%s/broker-%s.yaml' % (DEV, broker)");
    expect(tiltfile).toContain("'%s/values-broker-%s.yaml' % (DEV, broker)");
    expect(tiltfile).toContain("'%s/statestore-%s.yaml' % (DEV, state_store)");
    expect(tiltfile).toContain("'%s/values-statestore-%s.yaml' % (DEV, state_store)");
    expect(tiltfile).toContain("k8s_resource('nats-streams'");
  });

  it.each(brokerProfiles.flatMap((b) => stateStoreProfiles.map((s) => [b, s] as const)))(
    'give the chart everything with SHOP_BROKER=%s SHOP_STATE_STORE=%s',
    (broker, store) => {
      // What the Tiltfile loads and sets for this choice.
      const manifests = [...infra()];
      const values = ['--values', join(devDir, 'values-kind.yaml')];
      if (broker !== 'redis') {
        manifests.push(...yamlDocuments(join(devDir, `broker-${broker}.yaml`)));
        values.push('--values', join(devDir, `values-broker-${broker}.yaml`));
        // The Tiltfile's k8s_resource(broker): a workload of that name, reachable as a Service.
        expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toContain(broker);
      }
      if (store !== 'redis') {
        manifests.push(...yamlDocuments(join(devDir, `statestore-${store}.yaml`)));
        values.push('--values', join(devDir, `values-statestore-${store}.yaml`));
      }
      const objects = render([
        ...enableAll,
        ...values,
        '--set',
        `broker.profile=${broker}`,
        '--set',
        `stateStore.profile=${store}`,
      ]);

      // Every Secret key the sidecars or the Jobs read, and the chart does not create,
      // is in the manifests Tilt applies, and every host:port in it is one of their Services.
      const created = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
      const secrets = new Map(
        ofKind(manifests, 'Secret').map((s) => [s.metadata.name, s.stringData ?? {}]),
      );
      const services = ofKind(manifests, 'Service').flatMap((s) =>
        (s.spec.ports as { port: number }[]).map((p) => `${s.metadata.name}:${p.port}`),
      );
      const refs: Array<{ secret: string; key: string }> = [];
      for (const workload of [
        ...ofKind<Workload>(objects, 'Deployment'),
        ...ofKind<Workload>(objects, 'Job'),
      ]) {
        const annotations = workload.spec.template.metadata.annotations ?? {};
        for (const ref of annotationPairs(annotations['dapr.io/env-from-secret']).values()) {
          const [secret = '', key = ''] = ref.split(':');
          refs.push({ secret, key });
        }
        for (const container of workload.spec.template.spec.containers)
          for (const env of container.env ?? [])
            if (env.valueFrom?.secretKeyRef)
              refs.push({
                secret: env.valueFrom.secretKeyRef.name,
                key: env.valueFrom.secretKeyRef.key,
              });
      }
      for (const { secret, key } of refs) {
        if (created.has(secret) || secret === 'jwt-signing-keys') continue;
        const data = secrets.get(secret);
        // The SMTP server is the one Secret Tilt leaves to the developer (as before).
        if (secret === 'shop-smtp') continue;
        expect(data, secret).toBeDefined();
        const value = String(data?.[key] ?? '');
        expect(value, `${secret}.${key}`).not.toBe('');
        for (const [, host] of value.matchAll(/(?:^|@|\/\/|,)([a-z][a-z0-9-]*:\d+)/g))
          expect(services, `${secret}.${key}`).toContain(host);
      }
      // The state store's database exists in the throw-away PostgreSQL.
      if (store === 'postgresql') {
        const url = String(secrets.get('shop-statestore-db')?.url);
        const database = new URL(url).pathname.slice(1);
        const init = named(ofKind(manifests, 'ConfigMap'), 'postgres-init');
        expect(init.data['databases.sql']).toContain(`CREATE DATABASE ${database};`);
      }
      expect(natsJob(objects) !== undefined).toBe(broker === 'nats');
    },
  );
});

import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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
  repoRoot,
  shippedFromComponents,
  yamlDocuments,
  yamlFiles,
} from './support/chart.ts';
import type { Container, EnvVar, Workload } from './support/workloads.ts';

const render = (args: string[] = [], chart = chartDir) => renderChart(args, { chart });

const componentsDir = join(repoRoot, 'components');
const allServices = [
  'cart',
  'catalog',
  'gateway',
  'inventory',
  'notifications',
  'orders',
  'payments',
  'users',
];
const withDatabase = ['catalog', 'inventory', 'orders', 'payments', 'users'];
const enableAll = allServices.flatMap((name) => ['--set', `services.${name}.enabled=true`]);
const scratch = mkdtempSync(join(tmpdir(), 'shop-chart-'));

function envOf(container: Container, name: string): EnvVar | undefined {
  return container.env?.find((env) => env.name === name);
}

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('helm lint', () => {
  it('passes strictly with the default values and with every service enabled', () => {
    for (const args of [[], enableAll]) {
      const result = helm(['lint', '--strict', chartDir, ...args]);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('0 chart(s) failed');
    }
  });
});

describe('with the default values', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render();
  });

  it('deploys exactly the services that exist in services/', () => {
    const existing = readdirSync(join(repoRoot, 'services'))
      .filter((name) => existsSync(join(repoRoot, 'services', name, 'package.json')))
      .sort();
    const deployed = ofKind(objects, 'Deployment').map((d) => d.metadata.name);
    expect(deployed.sort()).toEqual(existing);
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
    expect(Object.keys(values.services).sort()).toEqual(allServices);
  });

  it('runs each service beside a Dapr sidecar with its app id, port, config and tokens', () => {
    const configurations = ofKind(objects, 'Configuration').map((c) => c.metadata.name);
    const secrets = ofKind(objects, 'Secret').map((s) => s.metadata.name);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const [app] = deployment.spec.template.spec.containers;
      if (!app) throw new Error(`${name} has no container`);
      const port = app.ports?.find((p) => p.name === 'http')?.containerPort;
      expect(annotations['dapr.io/enabled'], name).toBe('true');
      expect(annotations['dapr.io/app-id'], name).toBe(name);
      expect(annotations['dapr.io/app-port'], name).toBe(String(port));
      expect(annotations['dapr.io/app-protocol'], name).toBe('http');
      expect(annotations['dapr.io/log-as-json'], name).toBe('true');
      expect(configurations, name).toContain(annotations['dapr.io/config']);
      expect(envOf(app, 'APP_PORT')?.value, name).toBe(String(port));
      expect(envOf(app, 'APP_HOST')?.value, name).toBe('0.0.0.0');
      expect(envOf(app, 'DAPR_HTTP_PORT')?.value, name).toBe('3500');
      // The injector gives daprd key "token" of these Secrets; the app must read the same.
      // Each app has its own pair.
      for (const [annotation, variable, secretName] of [
        ['dapr.io/app-token-secret', 'APP_API_TOKEN', `${name}-app-api-token`],
        ['dapr.io/api-token-secret', 'DAPR_API_TOKEN', `${name}-dapr-api-token`],
      ] as const) {
        const secret = annotations[annotation];
        expect(secret, name).toBe(secretName);
        expect(secrets, `${name} ${annotation}`).toContain(secret);
        expect(envOf(app, variable)?.valueFrom?.secretKeyRef, name).toEqual({
          name: secret,
          key: 'token',
        });
      }
      // The redis profile's components resolve REDIS_HOST/REDIS_PASSWORD/REDIS_TLS through
      // envRef, which Dapr only allows for variables named in these annotations.
      expect(annotations['dapr.io/env'], name).toMatch(/(^|,)REDIS_HOST=[^,]+/);
      expect(annotations['dapr.io/env'], name).toMatch(/(^|,)REDIS_TLS=false(,|$)/);
      expect(annotations['dapr.io/env-from-secret'], name).toMatch(
        /(^|,)REDIS_PASSWORD=shop-redis:password(,|$)/,
      );
      // Metrics on a port of their own, never the app port clients reach.
      const metrics = app.ports?.find((p) => p.name === 'metrics')?.containerPort;
      expect(metrics, name).toBe(9464);
      expect(envOf(app, 'METRICS_PORT')?.value, name).toBe('9464');
      expect(annotations['prometheus.io/scrape'], name).toBe('true');
      expect(annotations['prometheus.io/port'], name).toBe('9464');
      expect(annotations['prometheus.io/path'], name).toBe('/metrics');
    }
  });

  it('probes /healthz and /readyz and runs unprivileged on a read-only root', () => {
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      const pod = deployment.spec.template.spec;
      const [app] = pod.containers;
      expect(app?.livenessProbe?.httpGet, name).toEqual({ path: '/healthz', port: 'http' });
      expect(app?.readinessProbe?.httpGet, name).toEqual({ path: '/readyz', port: 'http' });
      expect(app?.image, name).toBe(`shop/${name}:0.1.0`);
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(app?.securityContext?.readOnlyRootFilesystem, name).toBe(true);
      expect(app?.securityContext?.allowPrivilegeEscalation, name).toBe(false);
    }
  });

  it('gives each database its own Secret and creates none of them', () => {
    const created = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
    const users = named(ofKind<Workload>(objects, 'Deployment'), 'users');
    const notifications = named(ofKind<Workload>(objects, 'Deployment'), 'notifications');
    const usersDb = envOf(users.spec.template.spec.containers[0] as Container, 'DATABASE_URL');
    const mongo = envOf(notifications.spec.template.spec.containers[0] as Container, 'MONGODB_URL');
    expect(usersDb?.valueFrom?.secretKeyRef).toEqual({ name: 'shop-users-db', key: 'url' });
    // The hook Job migrates; the replicas must not race to do it again.
    expect(
      envOf(users.spec.template.spec.containers[0] as Container, 'MIGRATE_ON_START')?.value,
    ).toBe('false');
    expect(mongo?.valueFrom?.secretKeyRef).toEqual({
      name: 'shop-notifications-mongodb',
      key: 'url',
    });
    expect(created.has('shop-users-db')).toBe(false);
    expect(created.has('shop-notifications-mongodb')).toBe(false);
    expect(created.has('jwt-signing-keys')).toBe(false);
  });

  it('ships components/common and the redis profiles exactly as the files say', () => {
    const expected = [
      ...yamlFiles(join(componentsDir, 'common')),
      ...yamlFiles(join(componentsDir, 'redis')),
      ...yamlFiles(join(componentsDir, 'statestore/redis')),
    ].flatMap(yamlDocuments);
    const shipped = shippedFromComponents(objects);
    expect(shipped).toHaveLength(expected.length);
    for (const doc of expected) expect(shipped).toContainEqual(doc);
    const kinds = new Set(shipped.map((obj) => obj.kind));
    expect(kinds).toEqual(new Set(['Component', 'Resiliency', 'Subscription']));
    for (const subscription of ofKind(shipped, 'Subscription'))
      expect(subscription.scopes, subscription.metadata.name).not.toHaveLength(0);
  });

  it('configures the sidecars for Kubernetes: DNS name resolution, metrics, no local-only parts', () => {
    // One per app (its access-control list is its own; chart-hardening.test.ts checks it).
    const configurations = ofKind(objects, 'Configuration');
    expect(configurations).toHaveLength(ofKind(objects, 'Deployment').length);
    const local = parse(readFileSync(join(componentsDir, 'config.yaml'), 'utf8'));
    for (const configuration of configurations) {
      expect(configuration.spec.nameResolution).toBeUndefined();
      expect(JSON.stringify(configuration).toLowerCase()).not.toContain('sqlite');
      expect(configuration.spec.metrics.enabled).toBe(true);
      expect(configuration.spec.tracing.otel).toBeUndefined();
      expect(configuration.spec.tracing.samplingRate).toBe(local.spec.tracing.samplingRate);
    }
    const fileStores = ofKind(objects, 'Component').filter(
      (c) => c.spec.type === 'secretstores.local.file',
    );
    expect(fileStores).toHaveLength(0);
  });

  it('lets only users read the JWT keys, through a Kubernetes secret store scoped to it', () => {
    const store = named(ofKind(objects, 'Component'), 'secretstore');
    expect(store.spec.type).toBe('secretstores.kubernetes');
    expect(store.scopes).toEqual(['users']);
    const users = named(ofKind<Workload>(objects, 'Deployment'), 'users');
    expect(
      envOf(users.spec.template.spec.containers[0] as Container, 'SECRET_STORE_NAME')?.value,
    ).toBe('secretstore');
    const [role, ...otherRoles] = ofKind(objects, 'Role');
    expect(otherRoles).toHaveLength(0);
    expect(role?.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['jwt-signing-keys'],
        verbs: ['get'],
      },
    ]);
    const binding = named(ofKind(objects, 'RoleBinding'), 'users-secret-reader');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'users', namespace: 'shop' },
    ]);
    expect(
      named(ofKind<Workload>(objects, 'Deployment'), 'users').spec.template.spec,
    ).toMatchObject({
      serviceAccountName: 'users',
    });
  });
});

describe('with all eight services enabled', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render(enableAll);
  });

  it('deploys eight services and one public Service, the gateway', () => {
    expect(
      ofKind(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(allServices);
    expect(ofKind(objects, 'Service').map((s) => s.metadata.name)).toEqual(['gateway']);
  });

  it('migrates every database in a pre-install/pre-upgrade hook Job without a sidecar', () => {
    const jobs = ofKind<Workload>(objects, 'Job');
    expect(jobs.map((job) => job.metadata.name).sort()).toEqual(
      withDatabase.map((n) => `${n}-migrate`),
    );
    for (const name of withDatabase) {
      const job = named(jobs, `${name}-migrate`);
      const hooks = job.metadata.annotations?.['helm.sh/hook']?.split(',');
      expect(hooks, name).toEqual(expect.arrayContaining(['pre-install', 'pre-upgrade']));
      expect(job.spec.template.metadata.annotations?.['dapr.io/enabled'], name).toBeUndefined();
      const [migrate] = job.spec.template.spec.containers;
      expect(migrate?.image, name).toBe(`shop/${name}:0.1.0`);
      expect(migrate?.command, name).toEqual([
        'node',
        '../../packages/platform/src/db/migrate-cli.ts',
        'migrations',
      ]);
      expect(envOf(migrate as Container, 'DATABASE_URL')?.valueFrom?.secretKeyRef, name).toEqual({
        name: `shop-${name}-db`,
        key: 'url',
      });
    }
  });

  it('takes every credential from a Secret, never from a literal value', () => {
    const sensitive = /TOKEN|PASSWORD|PRIVATE|_KEY|DATABASE_URL|MONGODB_URL/;
    const workloads = [
      ...ofKind<Workload>(objects, 'Deployment'),
      ...ofKind<Workload>(objects, 'Job'),
    ];
    let checked = 0;
    for (const workload of workloads) {
      for (const container of workload.spec.template.spec.containers) {
        for (const env of container.env ?? []) {
          if (!sensitive.test(env.name)) continue;
          checked++;
          expect(env.value, `${workload.metadata.name} ${env.name}`).toBeUndefined();
          expect(
            env.valueFrom?.secretKeyRef?.name,
            `${workload.metadata.name} ${env.name}`,
          ).toBeTruthy();
        }
      }
      const annotations = workload.spec.template.metadata.annotations ?? {};
      expect(annotations['dapr.io/env'] ?? '', workload.metadata.name).not.toMatch(
        /PASSWORD=[^,]+/,
      );
    }
    // Two tokens in each of 8 services, 5 database URLs in Deployments and 5 in Jobs, 1
    // MongoDB URL, the gateway's Redis password.
    expect(checked).toBe(8 * 2 + 5 + 5 + 1 + 1);
  });

  it('has every Secret it refers to but does not create in charts/shop/dev/infra.yaml, for Tilt', () => {
    const created = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
    const referenced = new Set(
      [...ofKind<Workload>(objects, 'Deployment'), ...ofKind<Workload>(objects, 'Job')].flatMap(
        (w) =>
          w.spec.template.spec.containers.flatMap((c) =>
            (c.env ?? []).flatMap((env) => env.valueFrom?.secretKeyRef?.name ?? []),
          ),
      ),
    );
    const infra = yamlDocuments(join(chartDir, 'dev/infra.yaml'));
    const provided = new Set(ofKind(infra, 'Secret').map((s) => s.metadata.name));
    for (const name of referenced) if (!created.has(name)) expect(provided, name).toContain(name);
  });
});

describe('switching the broker profile', () => {
  it('ships the chosen profile of every profile folder in components/ and no other', () => {
    const profiles = readdirSync(componentsDir, { withFileTypes: true })
      .filter(
        (entry) => entry.isDirectory() && !['common', 'local', 'statestore'].includes(entry.name),
      )
      .map((entry) => entry.name);
    expect(profiles).toContain('redis');
    for (const profile of profiles) {
      // The render fails unless every variable the profile reads by envRef is given.
      const envRefs = yamlFiles(join(componentsDir, profile))
        .flatMap(yamlDocuments)
        .flatMap((doc) => (doc as K8sObject).spec?.metadata ?? [])
        .flatMap((item: { envRef?: string }) => (item.envRef ? [item.envRef] : []));
      const env = envRefs.flatMap((name) => ['--set', `broker.sidecarEnv.${name}=test`]);
      const shipped = shippedFromComponents(render(['--set', `broker.profile=${profile}`, ...env]));
      const expected = [
        join(componentsDir, 'common'),
        join(componentsDir, profile),
        join(componentsDir, 'statestore/redis'),
      ]
        .flatMap(yamlFiles)
        .flatMap(yamlDocuments);
      expect(shipped, profile).toHaveLength(expected.length);
      for (const doc of expected) expect(shipped, profile).toContainEqual(doc);
    }
  });

  it('picks another profile folder by value alone, with no template change', () => {
    // A copy of the chart whose files/ is a real folder (never the link: writing through
    // it would write into components/) holding a made-up profile beside common/.
    const chart = join(scratch, 'shop');
    cpSync(chartDir, chart, {
      recursive: true,
      filter: (source) => source !== join(chartDir, 'files'),
    });
    cpSync(join(componentsDir, 'common'), join(chart, 'files/common'), { recursive: true });
    cpSync(join(componentsDir, 'statestore/redis'), join(chart, 'files/statestore/redis'), {
      recursive: true,
    });
    expect(lstatSync(join(chart, 'files')).isSymbolicLink()).toBe(false);
    // values.schema.json lists the profiles, so the copy's names the made-up one too.
    const schemaFile = join(chart, 'values.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    schema.properties.broker.properties.profile.enum.push('testbroker');
    writeFileSync(schemaFile, JSON.stringify(schema));
    mkdirSync(join(chart, 'files/testbroker'));
    writeFileSync(
      join(chart, 'files/testbroker/pubsub.yaml'),
      'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n' +
        'spec:\n  type: pubsub.in-memory\n  version: v1\n  metadata: []\n',
    );
    const shipped = shippedFromComponents(render(['--set', 'broker.profile=testbroker'], chart));
    const pubsub = named(ofKind(shipped, 'Component'), 'pubsub');
    expect(pubsub.spec.type).toBe('pubsub.in-memory');
    // The profile brings only its broker; common/ adds what every profile shares (the cron binding).
    const brokers = ofKind<{ spec: { type: string } }>(shipped, 'Component').filter((c) =>
      c.spec.type.startsWith('pubsub.'),
    );
    expect(brokers).toHaveLength(1);
    expect(ofKind(shipped, 'Subscription').length).toBeGreaterThan(0);
  });

  it('refuses a profile the chart does not have, and the local-only folders', () => {
    const missing = helm(['template', 'shop', chartDir, '--set', 'broker.profile=nosuchbroker']);
    expect(missing.status).not.toBe(0);
    // values.schema.json names the profiles; chart-profiles.test.ts checks the template's own
    // refusal of a profile without files.
    expect(missing.stderr).toContain("at '/broker/profile'");
    for (const profile of ['common', 'local']) {
      const refused = helm(['template', 'shop', chartDir, '--set', `broker.profile=${profile}`]);
      expect(refused.status, profile).not.toBe(0);
    }
  });
});

describe('values that change what is rendered', () => {
  it('exports traces to an OTLP endpoint when one is given', () => {
    const objects = render([
      '--set',
      'dapr.tracing.otlp.endpoint=otel-collector.observability:4317',
    ]);
    const [configuration] = ofKind(objects, 'Configuration');
    expect(configuration?.spec.tracing.otel).toEqual({
      endpointAddress: 'otel-collector.observability:4317',
      protocol: 'grpc',
      isSecure: false,
    });
  });

  it('creates the JWT key Secret only from key material in values', () => {
    const keys = JSON.stringify({ 'jwt-signing-keys': '{"current":{}}' });
    const objects = render(['--set-json', `jwt.keys=${keys}`]);
    const secret = named(ofKind(objects, 'Secret'), 'jwt-signing-keys');
    expect(Buffer.from(secret.data['jwt-signing-keys'], 'base64').toString()).toBe(
      '{"current":{}}',
    );
  });

  it("takes the sidecars' Redis password from a Secret when one is named", () => {
    const objects = render([
      '--set',
      'broker.sidecarSecretEnv.REDIS_PASSWORD.secret=redis',
      '--set',
      'broker.sidecarSecretEnv.REDIS_PASSWORD.key=redis-password',
    ]);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const fromSecrets = annotations['dapr.io/env-from-secret']?.split(',') ?? [];
      expect(fromSecrets).toContain('REDIS_PASSWORD=redis:redis-password');
      // Instead of the chart's own (redis.auth); beside it only what the service's own
      // sidecar needs (notifications' SMTP server).
      expect(fromSecrets.filter((ref) => !ref.startsWith('SMTP_'))).toHaveLength(1);
      expect(annotations['dapr.io/env']).not.toContain('REDIS_PASSWORD');
    }
  });

  it("gives only notifications' sidecar the SMTP server of its email binding, from a Secret", () => {
    const objects = render([
      '--set',
      'services.notifications.sidecarSecretEnv.SMTP_HOST.secret=mail',
    ]);
    const email = named(ofKind(shippedFromComponents(objects), 'Component'), 'email');
    expect(email.spec.type).toBe('bindings.smtp');
    expect(email.scopes).toEqual(['notifications']);
    const envRefs = (email.spec.metadata as Array<{ envRef?: string }>).flatMap((m) =>
      m.envRef ? [m.envRef] : [],
    );
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const fromSecrets = annotations['dapr.io/env-from-secret']?.split(',') ?? [];
      const smtp = fromSecrets.filter((ref) => ref.startsWith('SMTP_')).sort();
      if (deployment.metadata.name !== 'notifications') {
        expect(smtp, deployment.metadata.name).toEqual([]);
        continue;
      }
      // Every variable the component reads by envRef, which Dapr resolves only when named here.
      expect(smtp.map((ref) => ref.split('=')[0])).toEqual([...envRefs].sort());
      expect(smtp).toEqual([
        'SMTP_HOST=mail:host',
        'SMTP_PASSWORD=shop-smtp:password',
        'SMTP_PORT=shop-smtp:port',
        'SMTP_USER=shop-smtp:user',
      ]);
    }
    expect(ofKind(objects, 'Secret').map((s) => s.metadata.name)).not.toContain('shop-smtp');
  });

  it("points the gateway's shared rate limits at the broker's Redis, also for Tilt", () => {
    const kindValues = join(chartDir, 'dev', 'values-kind.yaml');
    for (const [args, redis] of [
      [[], 'redis-master.redis.svc.cluster.local:6379'],
      [['--values', kindValues], 'redis:6379'],
    ] as const) {
      const gateway = named(ofKind<Workload>(render([...args]), 'Deployment'), 'gateway');
      const [app] = gateway.spec.template.spec.containers;
      if (!app) throw new Error('the gateway has no container');
      const sidecarEnv = gateway.spec.template.metadata.annotations?.['dapr.io/env'] ?? '';
      expect(sidecarEnv).toContain(`REDIS_HOST=${redis}`);
      expect(envOf(app, 'REDIS_HOST')?.value).toBe(redis);
      for (const budget of ['AUTH', 'SEARCH', 'CHECKOUT', 'DEFAULT']) {
        expect(envOf(app, `RATE_LIMIT_${budget}`)?.value).toMatch(/^\d+\/\d+[smh]?$/);
      }
    }
  });

  it('routes an Ingress to the gateway when enabled', () => {
    const objects = render(['--set', 'ingress.enabled=true', '--set', 'ingress.host=shop.test']);
    const ingress = named(ofKind(objects, 'Ingress'), 'gateway');
    expect(ingress.spec.rules[0].host).toBe('shop.test');
    const paths = ingress.spec.rules[0].http.paths as Array<{
      path: string;
      backend: { service: unknown };
    }>;
    // The public API only: probes and metrics are not routed out of the cluster.
    expect(paths.map((p) => p.path)).toEqual([
      '/api/',
      '/.well-known/',
      '/graphql',
      '/openapi.json',
      '/docs',
    ]);
    for (const p of paths)
      expect(p.backend.service).toEqual({ name: 'gateway', port: { name: 'http' } });
  });

  it('leaves migrating to the services themselves when the hook Jobs are off', () => {
    const objects = render([...enableAll, '--set', 'migrations.enabled=false']);
    expect(ofKind(objects, 'Job')).toEqual([]);
    for (const name of withDatabase) {
      const deployment = named(ofKind<Workload>(objects, 'Deployment'), name);
      const app = deployment.spec.template.spec.containers[0] as Container;
      expect(envOf(app, 'MIGRATE_ON_START')?.value, name).toBe('true');
    }
  });

  it('rejects values the schema does not know', () => {
    const result = helm(['template', 'shop', chartDir, '--set', 'services.users.prot=3101']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("additional properties 'prot' not allowed");
  });
});

describe('helm package', () => {
  it('carries the linked component files, without the local-only ones', () => {
    const result = helm(['package', chartDir, '--destination', scratch]);
    expect(result.status, result.stderr).toBe(0);
    const names = tarEntries(gunzipSync(readFileSync(join(scratch, 'shop-0.1.0.tgz'))));
    for (const file of readdirSync(join(componentsDir, 'common')))
      expect(names).toContain(`shop/files/common/${file}`);
    expect(names).not.toContain('shop/files/config.yaml');
    expect(names.filter((name) => name.startsWith('shop/files/local/'))).toEqual([]);
    expect(names.filter((name) => name.startsWith('shop/dev/'))).toEqual([]);
    // Fixed tokens and password, or each rendering would generate its own.
    const tokens = ['--set', `apiTokens.seed=${'a'.repeat(16)}`];
    tokens.push('--set', `redis.auth.password=${'r'.repeat(16)}`);
    expect(render(tokens, join(scratch, 'shop-0.1.0.tgz'))).toEqual(render(tokens));
  });
});

/** File names in a ustar archive. */
function tarEntries(archive: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const header = archive.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').trim() || '0', 8);
    names.push(prefix ? `${prefix}/${name}` : name);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

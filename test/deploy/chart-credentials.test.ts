// The chart's credentials and TLS, rendered by the pinned helm: an API token pair per app,
// a Redis password from a Secret for the gateway and every sidecar, and the brokers' and
// Redis's authentication and TLS as values, wired into the component files' envRef
// variables; a render with TLS on but no CA fails, saying what to set.
import { describe, expect, it } from 'vitest';
import { type K8sObject, named, ofKind, renderChart, renderChartError } from './support/chart.ts';

type Env = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
};
type Pod = {
  metadata: { annotations?: Record<string, string> };
  spec: {
    containers: {
      name: string;
      env?: Env[];
      volumeMounts?: { name: string; mountPath: string }[];
    }[];
    // biome-ignore lint/suspicious/noExplicitAny: volume sources differ
    volumes?: { name: string; [source: string]: any }[];
  };
};
type Workload = K8sObject & { spec: { template: Pod } };

const seed = ['--set', `apiTokens.seed=${'s'.repeat(20)}`];
const fixed = [...seed, '--set', `redis.auth.password=${'p'.repeat(20)}`];
const caOf = (section: string) => [
  '--set',
  `${section}.tls.enabled=true`,
  '--set',
  `${section}.tls.ca.secret=${section.replaceAll('.', '-')}-ca`,
];

const deployments = (objects: K8sObject[]) => ofKind<Workload>(objects, 'Deployment');
const annotationsOf = (w: Workload) => w.spec.template.metadata.annotations ?? {};
const envOf = (w: Workload, name: string) =>
  w.spec.template.spec.containers[0]?.env?.find((e) => e.name === name);
/** dapr.io/env as a map. */
const sidecarEnv = (w: Workload) =>
  Object.fromEntries(
    (annotationsOf(w)['dapr.io/env'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
/** dapr.io/env-from-secret as a map NAME -> secret:key. */
const sidecarSecrets = (w: Workload) =>
  Object.fromEntries(
    (annotationsOf(w)['dapr.io/env-from-secret'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
const secretData = (objects: K8sObject[], name: string, key: string) =>
  Buffer.from(named(ofKind(objects, 'Secret'), name).data[key], 'base64').toString();

describe('API tokens', () => {
  it('are a pair per app, each different, and kept to the seed when one is given', () => {
    const objects = renderChart(fixed);
    const tokens = new Set<string>();
    for (const deployment of deployments(objects)) {
      const app = deployment.metadata.name;
      for (const secret of [`${app}-app-api-token`, `${app}-dapr-api-token`]) {
        const token = secretData(objects, secret, 'token');
        expect(token.length, secret).toBeGreaterThanOrEqual(16);
        tokens.add(token);
      }
    }
    expect(tokens.size).toBe(deployments(objects).length * 2);
    expect(renderChart(fixed)).toEqual(objects);
  });

  it('are random without a seed, and a short seed is refused', () => {
    const first = secretData(renderChart([]), 'users-app-api-token', 'token');
    expect(first).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secretData(renderChart([]), 'users-app-api-token', 'token')).not.toBe(first);
    expect(renderChartError(['--set', 'apiTokens.seed=short'])).toMatch(/seed/);
    // Not created: the operator's own Secrets, by the same names.
    const own = renderChart(['--set', 'apiTokens.create=false']);
    expect(ofKind(own, 'Secret').filter((s) => s.metadata.name.endsWith('-api-token'))).toEqual([]);
  });
});

describe('Redis password', () => {
  it('is a Secret the gateway and every sidecar read, generated once or given', () => {
    const objects = renderChart([...seed, '--set', `redis.auth.password=${'p'.repeat(24)}`]);
    expect(secretData(objects, 'shop-redis', 'password')).toBe('p'.repeat(24));
    for (const deployment of deployments(objects)) {
      expect(sidecarSecrets(deployment).REDIS_PASSWORD, deployment.metadata.name).toBe(
        'shop-redis:password',
      );
      expect(sidecarEnv(deployment).REDIS_PASSWORD).toBeUndefined();
    }
    const gateway = named(deployments(objects), 'gateway');
    expect(envOf(gateway, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'shop-redis',
      key: 'password',
    });
    expect(envOf(named(deployments(objects), 'users'), 'REDIS_PASSWORD')).toBeUndefined();
    const generated = secretData(renderChart(seed), 'shop-redis', 'password');
    expect(generated).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('can come from a Secret of your own, or be off for a throw-away Redis', () => {
    const own = renderChart([
      ...seed,
      '--set',
      'redis.auth.create=false',
      '--set',
      'redis.auth.secret=redis',
      '--set',
      'redis.auth.key=redis-password',
    ]);
    expect(ofKind(own, 'Secret').map((s) => s.metadata.name)).not.toContain('redis');
    expect(sidecarSecrets(named(deployments(own), 'catalog')).REDIS_PASSWORD).toBe(
      'redis:redis-password',
    );
    const off = renderChart([...seed, '--set', 'redis.auth.enabled=false']);
    expect(ofKind(off, 'Secret').map((s) => s.metadata.name)).not.toContain('shop-redis');
    expect(sidecarEnv(named(deployments(off), 'catalog')).REDIS_PASSWORD).toBe('');
    expect(envOf(named(deployments(off), 'gateway'), 'REDIS_PASSWORD')).toBeUndefined();
    expect(renderChartError(['--set', 'redis.auth.password=short'])).toMatch(/password/);
  });
});

describe('TLS', () => {
  it('to Redis: the components and the gateway turn it on and trust the CA given', () => {
    const objects = renderChart([...seed, ...caOf('redis')]);
    for (const deployment of deployments(objects)) {
      const name = deployment.metadata.name;
      expect(sidecarEnv(deployment).REDIS_TLS, name).toBe('true');
      expect(sidecarEnv(deployment).SSL_CERT_DIR, name).toBe('/var/run/shop/ca');
      expect(annotationsOf(deployment)['dapr.io/volume-mounts'], name).toContain(
        'trusted-ca:/var/run/shop/ca',
      );
      const volume = deployment.spec.template.spec.volumes?.find((v) => v.name === 'trusted-ca');
      expect(volume?.projected.sources, name).toEqual([
        { secret: { name: 'redis-ca', items: [{ key: 'ca.crt', path: 'redis-ca.crt' }] } },
      ]);
    }
    const gateway = named(deployments(objects), 'gateway');
    expect(envOf(gateway, 'REDIS_TLS')?.value).toBe('true');
    expect(envOf(gateway, 'NODE_EXTRA_CA_CERTS')?.value).toBe('/var/run/shop/ca/redis-ca.crt');
    // users reads the secret store with its own token mount beside the CA.
    expect(annotationsOf(named(deployments(objects), 'users'))['dapr.io/volume-mounts']).toBe(
      'kube-api-access:/var/run/secrets/kubernetes.io/serviceaccount,trusted-ca:/var/run/shop/ca',
    );
  });

  it('is off by default, and on without a CA the render fails naming the value', () => {
    const objects = renderChart(seed);
    for (const deployment of deployments(objects)) {
      expect(sidecarEnv(deployment).REDIS_TLS).toBe('false');
      expect(sidecarEnv(deployment).SSL_CERT_DIR).toBeUndefined();
      expect(deployment.spec.template.spec.volumes?.map((v) => v.name)).not.toContain('trusted-ca');
    }
    for (const [section, profile] of [
      ['redis', 'redis'],
      ['broker.kafka', 'kafka'],
      ['broker.rabbitmq', 'rabbitmq'],
      ['broker.nats', 'nats'],
    ] as const) {
      const error = renderChartError([
        ...seed,
        '--set',
        `broker.profile=${profile}`,
        ...brokerConnection(profile),
        '--set',
        `${section}.tls.enabled=true`,
      ]);
      expect(error, section).toContain(`${section}.tls.enabled needs ${section}.tls.ca`);
    }
  });

  it('to NATS: the sidecars and the streams Job trust its CA', () => {
    const objects = renderChart([
      ...seed,
      '--set',
      'broker.profile=nats',
      ...brokerConnection('nats'),
      ...caOf('broker.nats'),
    ]);
    const job = named(ofKind<Workload>(objects, 'Job'), 'nats-streams');
    expect(envOf(job, 'NATS_CA')?.value).toBe('/var/run/shop/ca/nats-ca.crt');
    expect(job.spec.template.spec.volumes?.find((v) => v.name === 'trusted-ca')).toBeTruthy();
    const catalog = named(deployments(objects), 'catalog');
    expect(sidecarEnv(catalog).SSL_CERT_DIR).toBe('/var/run/shop/ca');
  });
});

/** What each profile's component files need besides, so a render can succeed. */
function brokerConnection(profile: string): string[] {
  const variable = { kafka: 'KAFKA_BROKERS', rabbitmq: 'RABBITMQ_URL', nats: 'NATS_URL' }[profile];
  if (!variable) return [];
  return [
    '--set',
    `broker.sidecarSecretEnv.${variable}.secret=shop-broker`,
    '--set',
    `broker.sidecarSecretEnv.${variable}.key=url`,
  ];
}

describe('Kafka authentication', () => {
  const kafka = [...seed, '--set', 'broker.profile=kafka', ...brokerConnection('kafka')];

  it('is none over plaintext by default, as the values say', () => {
    const catalog = named(deployments(renderChart(kafka)), 'catalog');
    expect(sidecarEnv(catalog)).toMatchObject({
      KAFKA_AUTH_TYPE: 'none',
      KAFKA_DISABLE_TLS: 'true',
    });
  });

  it('is SASL/SCRAM from a Secret over TLS when turned on', () => {
    const objects = renderChart([
      ...kafka,
      '--set',
      'broker.kafka.sasl.enabled=true',
      '--set',
      'broker.kafka.sasl.secret=shop-kafka-user',
      '--set',
      'broker.kafka.sasl.mechanism=SHA-256',
      ...caOf('broker.kafka'),
    ]);
    for (const deployment of deployments(objects)) {
      expect(sidecarEnv(deployment)).toMatchObject({
        KAFKA_AUTH_TYPE: 'password',
        KAFKA_SASL_MECHANISM: 'SHA-256',
        KAFKA_DISABLE_TLS: 'false',
        SSL_CERT_DIR: '/var/run/shop/ca',
      });
      expect(sidecarSecrets(deployment)).toMatchObject({
        KAFKA_SASL_USERNAME: 'shop-kafka-user:username',
        KAFKA_SASL_PASSWORD: 'shop-kafka-user:password',
      });
    }
    expect(renderChartError([...kafka, '--set', 'broker.kafka.sasl.enabled=true'])).toContain(
      'broker.kafka.sasl.enabled needs broker.kafka.sasl.secret',
    );
  });
});

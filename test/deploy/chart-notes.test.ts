import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shopTopics } from '@shop/devkit/brokers';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type K8sObject, ofKind, prepareHelm, repoRoot } from './support/chart.ts';
import { allServices, notes, render, values, workloads } from './support/hardening.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('NOTES', () => {
  it('say what must exist before the pods start and how to reach the gateway', () => {
    const text = notes();
    expect(text).toContain('Dapr control plane, 1.18 or newer, in namespace dapr-system');
    expect(text).toContain(
      "kubectl get configuration daprsystem --namespace dapr-system -o jsonpath='{.spec.mtls.enabled}'",
    );
    expect(text).toContain('a network plugin that enforces NetworkPolicies');
    // Every Secret the pods read and the chart does not create, with its keys.
    const objects = render();
    const created = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
    const read = new Map<string, Set<string>>();
    const add = (secret: string, key: string) =>
      read.set(secret, (read.get(secret) ?? new Set()).add(key));
    for (const workload of workloads(objects)) {
      for (const container of workload.spec.template.spec.containers)
        for (const env of container.env ?? []) {
          const ref = env.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
          if (ref) add(ref.name, ref.key);
        }
      const fromSecret = workload.spec.template.metadata.annotations?.['dapr.io/env-from-secret'];
      for (const pair of fromSecret?.split(',') ?? []) {
        const [secret = '', key = ''] = (pair.split('=')[1] ?? '').split(':');
        add(secret, key);
      }
    }
    add(values.jwt.secretName, values.jwt.secretName);
    for (const [secret, keys] of read) {
      if (created.has(secret)) continue;
      const line = text.split('\n').find((l) => l.startsWith(`   - ${secret}, key`));
      expect(line, secret).toBeDefined();
      for (const key of keys)
        expect(text, `${secret} ${key}`).toMatch(new RegExp(`(key |s |\\n {7})${key}[:,]`));
    }
    for (const name of allServices.filter((n) => values.services[n].database))
      expect(text).toContain(
        `a PostgreSQL database for ${name}, migrated by the hook Job ${name}-migrate`,
      );
    expect(text).toContain('a MongoDB database for notifications');
    expect(text).toContain('kubectl --namespace shop port-forward service/gateway 8080:8080');

    const behindIngress = notes([
      '--set',
      'ingress.enabled=true',
      '--set',
      'ingress.host=shop.test',
    ]);
    expect(behindIngress).toContain('The API: http://shop.test/');
    expect(behindIngress).toContain('The gateway trusts 1 proxy hop(s) of X-Forwarded-For');
  });

  it("name each broker profile's streams, topics or queues", () => {
    const secretFor = (name: string) => [
      '--set',
      `broker.sidecarSecretEnv.${name}.secret=shop-broker`,
      '--set',
      `broker.sidecarSecretEnv.${name}.key=url`,
    ];
    const kafka = notes(['--set', 'broker.profile=kafka', ...secretFor('KAFKA_BROKERS')]);
    for (const topic of shopTopics(repoRoot)) expect(kafka).toContain(`\n       ${topic}\n`);
    expect(kafka).toContain('shop-broker, key url: KAFKA_BROKERS of every sidecar');

    const rabbitmq = notes(['--set', 'broker.profile=rabbitmq', ...secretFor('RABBITMQ_URL')]);
    // One queue per subscribing app and topic, named as Dapr names it: <app id>-<topic>.
    const subscriptions = parseAllDocuments(
      readFileSync(join(repoRoot, 'components/common/subscriptions.yaml'), 'utf8'),
    ).map((doc) => doc.toJS() as K8sObject);
    const queues = subscriptions.flatMap((s) =>
      (s.scopes as string[]).map((app) => `${app}-${s.spec.topic} (topic ${s.spec.topic})`),
    );
    expect(queues.length).toBeGreaterThan(10);
    const listed = rabbitmq.split('\n').filter((line) => / \(topic [a-z._]+\)$/.test(line));
    expect(listed.map((line) => line.trim())).toEqual([...queues].sort());

    const nats = notes(['--set', 'broker.profile=nats', ...secretFor('NATS_URL')]);
    expect(nats).toContain('the hook Job nats-streams makes one stream per');
    expect(notes()).toContain('the sidecars make the streams and consumer groups themselves');
  });
});

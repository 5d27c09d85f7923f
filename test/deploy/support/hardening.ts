// What the hardening tests of the chart share: its values and schema, a render with fixed
// tokens, the workloads it makes and the NOTES `helm install` prints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { chartDir, helm, type K8sObject, ofKind, renderChart, renderChartError } from './chart.ts';
import type { Workload } from './workloads.ts';

export type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};
export type Peer = {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
};
export type PolicyRule = {
  ports?: { port: number; protocol?: string }[];
  from?: Peer[];
  to?: Peer[];
};
/** callee -> caller -> `all` or "VERB /path" methods, as values.yaml's dapr.accessControl. */
export type AccessControl = Record<string, Record<string, 'all' | string[]>>;
export type Call = { caller: string; callee: string; verb: string; path: string; where: string };

export const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
export const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
export const accessControl = values.dapr.accessControl as AccessControl;
export const allServices = Object.keys(values.services).sort();
export const namespace = 'shop';
// Fixed tokens and Redis password, so two renderings of the same values are equal.
export const tokens = [
  '--set',
  `apiTokens.seed=${'a'.repeat(20)}`,
  '--set',
  `redis.auth.password=${'r'.repeat(20)}`,
];
export const daprInternalPort = 50002;
export const daprMetricsPort = 9090;
/** METRICS_PORT of every service (metrics.port). */
export const appMetricsPort = 9464;
/** A product id, standing in for the ones the code puts into a path. */
export const sampleId = '0190c1de-7b1e-7000-8000-000000000001';

export const render = (args: string[] = [], ns = namespace) =>
  renderChart([...tokens, ...args], { namespace: ns });
export const renderError = (args: string[]) => renderChartError(args, { namespace });

/** The NOTES `helm install` prints, without a cluster. */
export function notes(args: string[] = []): string {
  const result = helm([
    'install',
    'shop',
    chartDir,
    '--dry-run=client',
    '--namespace',
    namespace,
    ...tokens,
    ...args,
  ]);
  if (result.status !== 0) throw new Error(`helm install --dry-run failed:\n${result.stderr}`);
  const at = result.stdout.indexOf('\nNOTES:\n');
  expect(at).toBeGreaterThan(0);
  return result.stdout.slice(at);
}

export const workloads = (objects: K8sObject[]) => [
  ...ofKind<Workload>(objects, 'Deployment'),
  ...ofKind<Workload>(objects, 'Job'),
];

/** Every service and the nats profile's Job: all the pods the chart can make. */
export function everything(): K8sObject[] {
  return render([
    '--set',
    'broker.profile=nats',
    '--set',
    'broker.sidecarSecretEnv.NATS_URL.secret=shop-nats',
    '--set',
    'broker.sidecarSecretEnv.NATS_URL.key=url',
  ]);
}

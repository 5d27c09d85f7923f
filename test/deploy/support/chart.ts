// What the chart's tests share: the pinned helm, a render read back as objects, and the
// small lookups every one of them makes on those objects.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveHelm } from '@shop/devkit/cluster';
import { findRepoRoot } from '@shop/devkit/process';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';

export const repoRoot = findRepoRoot(import.meta.dirname);
export const chartDir = join(repoRoot, 'charts/shop');

export type Metadata = {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  // biome-ignore lint/suspicious/noExplicitAny: kinds differ; each test reads what it checks
  [field: string]: any;
};

let helmPath: string | undefined;

/** Finds (or, on a fresh machine, builds) the pinned helm; call it from a beforeAll. */
export function prepareHelm(): string {
  helmPath ??= resolveHelm(repoRoot);
  return helmPath;
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(prepareHelm(), args, { encoding: 'utf8', timeout: 30_000 });
}

function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null);
}

type RenderOptions = { chart?: string; namespace?: string };

/** `helm template` of release `shop`, as objects; throws with helm's error when it fails. */
export function renderChart(args: string[], options: RenderOptions = {}): K8sObject[] {
  const { chart = chartDir, namespace = 'shop' } = options;
  const result = helm(['template', 'shop', chart, '--namespace', namespace, ...args]);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseObjects(result.stdout);
}

/** A render that must fail; returns helm's error output. */
export function renderChartError(args: string[], options: RenderOptions = {}): string {
  const { chart = chartDir, namespace = 'shop' } = options;
  const result = helm(['template', 'shop', chart, '--namespace', namespace, ...args]);
  expect(result.status, result.stdout.slice(0, 500)).not.toBe(0);
  return result.stderr;
}

export function ofKind<T = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((obj) => obj.kind === kind) as T[];
}

export function named<T extends { metadata: Metadata }>(objects: T[], name: string): T {
  const found = objects.find((obj) => obj.metadata.name === name);
  if (!found) throw new Error(`no object named ${name}`);
  return found;
}

/** Every YAML document of a file, as objects. */
export function yamlDocuments(file: string): K8sObject[] {
  return parseObjects(readFileSync(file, 'utf8'));
}

/** The .yaml files of a folder, sorted. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => join(dir, file));
}

/** The Dapr objects shipped verbatim from components/: everything dapr.io the chart did not label. */
export function shippedFromComponents(objects: K8sObject[]): K8sObject[] {
  return objects.filter(
    (obj) => obj.apiVersion.startsWith('dapr.io/') && !obj.metadata.labels?.['helm.sh/chart'],
  );
}

// The prometheus-operator's CRDs, for the test API server: read from its Go module at a
// pinned release, as packages/devkit/src/cluster reads Dapr's from the dapr module, so the
// chart's PodMonitors and PrometheusRule are validated against the schemas a real
// operator installs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCluster } from '@shop/devkit/cluster';
import { findExecutables } from '@shop/devkit/process';
import { parseAllDocuments, stringify } from 'yaml';

/** The operator's root module, which ships example/prometheus-operator-crd/*.yaml. */
export const prometheusOperatorModule = 'github.com/prometheus-operator/prometheus-operator';
/** Bump together with the operator a cluster runs; its CRDs are served as monitoring.coreos.com/v1. */
export const prometheusOperatorVersion = 'v0.85.0';

/** The kinds the chart can render, by their CRD files in the module. */
const crdFiles = [
  'monitoring.coreos.com_podmonitors.yaml',
  'monitoring.coreos.com_servicemonitors.yaml',
  'monitoring.coreos.com_prometheusrules.yaml',
];

/**
 * A Go module's folder in the module cache, downloaded (and checksum-verified) on first
 * use: `module@version`, or a bare module path at the version `cwd`'s go.mod requires.
 */
export function goModuleDir(module: string, cwd: string = tmpdir()): string {
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) throw new Error(`Go is needed to read ${module} from the module cache`);
  const download = spawnSync(go, ['mod', 'download', '-json', module], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const dir = download.status === 0 ? (JSON.parse(download.stdout).Dir as string) : '';
  if (!dir) throw new Error(`go mod download ${module} failed: ${download.stderr}`);
  return dir;
}

/** The CRDs as one YAML stream, and their names (podmonitors.monitoring.coreos.com, ...). */
export function prometheusOperatorCrds(): { yaml: string; names: string[] } {
  // Outside any module (the temp folder), so that no go.mod decides the version.
  const module = `${prometheusOperatorModule}@${prometheusOperatorVersion}`;
  const crdDir = join(goModuleDir(module), 'example/prometheus-operator-crd');
  const names: string[] = [];
  const documents: string[] = [];
  for (const file of crdFiles) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; metadata: { name: string } } | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      names.push(crd.metadata.name);
      documents.push(stringify(crd));
    }
  }
  if (names.length !== crdFiles.length)
    throw new Error(`expected ${crdFiles.length} CRDs in ${crdDir}`);
  return { yaml: documents.join('---\n'), names };
}

/** Applies the CRDs to the cluster and waits until the API server serves them. */
export async function installPrometheusOperatorCrds(
  cluster: TestCluster,
  crds: { yaml: string; names: string[] },
): Promise<void> {
  const applied = await cluster.kubectl(['apply', '--server-side', '-f', '-'], crds.yaml);
  if (applied.status !== 0) throw new Error(`applying the CRDs failed: ${applied.stderr}`);
  const established = await cluster.kubectl([
    ...['wait', '--for', 'condition=Established', '--timeout', '60s'],
    ...crds.names.map((name) => `crd/${name}`),
  ]);
  if (established.status !== 0) throw new Error(`CRDs not Established: ${established.stderr}`);
}

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { type CommandResult, runCommand } from '../process/commands.ts';
import { pollUntil } from '../process/poll.ts';
import { freePorts } from '../process/ports.ts';
import { ProcessGroup } from '../process/processes.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import { findExecutables } from '../process/system.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const kubernetesModule = 'k8s.io/kubernetes';

/**
 * Stamps both version packages: the server reports component-base's version (the chart's
 * kubeVersion constraint is checked against it), kubectl's client half reads client-go's.
 * Unstamped, both say v0.0.0-master.
 */
function kubernetesLdflags(version: string): string {
  const [major, minor] = version.split('.');
  const stamps = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap(
    (pkg) => [
      `-X ${pkg}.gitVersion=v${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    ],
  );
  return ['-s -w', ...stamps].join(' ');
}

export const kubeApiserverTool: GoTool = {
  name: 'kube-apiserver',
  wrapperDir: 'tools/kube-apiserver',
  module: kubernetesModule,
  mainPackage: `${kubernetesModule}/cmd/kube-apiserver`,
  ldflags: kubernetesLdflags,
  // Kubernetes' own release builds of its servers are static.
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['--version'],
  versionFrom: (output) => /^Kubernetes v(\S+)$/m.exec(output)?.[1],
  pathVariable: 'KUBE_APISERVER_PATH',
};

/** Built from the same wrapper module, so client and server are always one release. */
export const kubectlTool: GoTool = {
  name: 'kubectl',
  wrapperDir: 'tools/kube-apiserver',
  module: kubernetesModule,
  mainPackage: `${kubernetesModule}/cmd/kubectl`,
  ldflags: kubernetesLdflags,
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['version', '--client'],
  versionFrom: (output) => /^Client Version: v(\S+)$/m.exec(output)?.[1],
  pathVariable: 'KUBECTL_PATH',
};

export const etcdTool: GoTool = {
  name: 'etcd',
  wrapperDir: 'tools/etcd',
  module: 'go.etcd.io/etcd/server/v3',
  mainPackage: 'go.etcd.io/etcd/server/v3',
  // The version is a constant in etcd's api module; nothing to stamp.
  ldflags: () => '-s -w',
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['--version'],
  versionFrom: (output) => /^etcd Version: (\S+)$/m.exec(output)?.[1],
  pathVariable: 'ETCD_PATH',
};

export type KubeTools = { kubeApiserver: string; kubectl: string; etcd: string };

/**
 * kube-apiserver, kubectl and etcd of their pinned versions (tools/kube-apiserver,
 * tools/etcd), each built once and cached like daprd. kubectl reuses most of
 * kube-apiserver's compiled packages, so it is built second.
 */
export function resolveKubeTools(repoRoot: string): KubeTools {
  return {
    kubeApiserver: resolveGoTool(repoRoot, kubeApiserverTool),
    kubectl: resolveGoTool(repoRoot, kubectlTool),
    etcd: resolveGoTool(repoRoot, etcdTool),
  };
}

/** The name of the kubeconfig's context, cluster and user: Tilt only deploys to known local names. */
export const testClusterContext = 'kind-shop';

export type TestCluster = {
  /** A kubeconfig whose current context (`kind-shop`) is the cluster's admin. */
  kubeconfig: string;
  /** e.g. https://127.0.0.1:24567 */
  server: string;
  /** What the server reports, e.g. v1.35.4. */
  version: string;
  /** The admin's bearer token (group system:masters). */
  token: string;
  /** The cluster's folder: etcd's data, certificates, keys, the kubeconfig. */
  dir: string;
  /** kubectl against this cluster; never throws on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  /** The last lines etcd and kube-apiserver wrote, for an error message. */
  output(): string;
  /** Stops kube-apiserver, then etcd; deletes the folder if this call made it. */
  stop(): Promise<void>;
};

/**
 * A throw-away Kubernetes API server for tests: etcd and kube-apiserver on free loopback
 * ports in one process group (nothing outlives the test process), RBAC on, an admin token,
 * and Dapr's CRDs from the pinned dapr module installed and Established. No controllers
 * or nodes run: objects are stored and validated, never acted on.
 *
 * `dir` is where its state goes (left in place afterwards); without it, a temp folder
 * removed on stop.
 */
export async function startTestCluster(
  options: { dir?: string; repoRoot?: string } = {},
): Promise<TestCluster> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const tools = resolveKubeTools(repoRoot);
  const crds = daprCustomResourceDefinitions(repoRoot);
  const { dir, remove } = clusterFolder(options.dir);
  let output = '';
  const group = new ProcessGroup({
    output: (name, line) => {
      output = `${output}${name}: ${line}\n`.slice(-16_000);
    },
    // Either dying makes the next request fail; its last words are in output().
    onUnexpectedExit: () => {},
  });
  const stop = async () => {
    await group.stopInStages([['kube-apiserver'], ['etcd']], 5_000);
    remove();
  };
  try {
    const api = await startControlPlane(group, tools, dir);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(api.server, api.token, api.ca), { mode: 0o600 });
    const cacheDir = join(dir, 'kubectl-cache');
    const kubectl = (args: string[], input?: string) =>
      runCommand(tools.kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
        input,
        env: withoutKubeconfig(process.env),
      });
    await installCrds(kubectl, crds);
    const { server, version, token } = api;
    return { kubeconfig, server, version, token, dir, kubectl, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`the test cluster did not start: ${(error as Error).message}\n${output}`);
  }
}

/** `dir` as given (left in place), or a temp folder removed on stop or at exit. */
function clusterFolder(given: string | undefined): { dir: string; remove(): void } {
  const dir = given ?? mkdtempSync(join(tmpdir(), 'shop-kube-'));
  mkdirSync(dir, { recursive: true });
  const removeDir = () => {
    if (!given) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeDir);
  return {
    dir,
    remove() {
      process.removeListener('exit', removeDir);
      removeDir();
    },
  };
}

/** etcd, then kube-apiserver on it; resolves once the API server is ready. */
async function startControlPlane(
  group: ProcessGroup,
  tools: KubeTools,
  dir: string,
): Promise<{ server: string; token: string; ca: Buffer; version: string }> {
  const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
  await startEtcd(group, tools.etcd, dir, etcdClientPort, etcdPeerPort);
  const token = randomBytes(24).toString('hex');
  const certDir = join(dir, 'certs');
  startKubeApiserver(group, tools.kubeApiserver, dir, {
    etcdUrl: `http://127.0.0.1:${etcdClientPort}`,
    port: apiPort,
    token,
    certDir,
  });
  const server = `https://127.0.0.1:${apiPort}`;
  // Its self-signed serving certificate, written at start, is followed by the CA that signed it.
  const caFile = join(certDir, 'apiserver.crt');
  await waitUntilReady(group, server, token, caFile);
  const ca = readFileSync(caFile);
  return { server, token, ca, version: await readVersion(server, token, ca) };
}

async function installCrds(
  kubectl: TestCluster['kubectl'],
  crds: { yaml: string; names: string[] },
): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', '-f', '-'], crds.yaml);
  if (applied.status !== 0) throw new Error(`applying Dapr's CRDs failed: ${applied.stderr}`);
  const established = await kubectl([
    ...['wait', '--for', 'condition=Established', '--timeout', '60s'],
    ...crds.names.map((name) => `crd/${name}`),
  ]);
  if (established.status !== 0) {
    throw new Error(`Dapr's CRDs were not Established: ${established.stderr}`);
  }
}

async function startEtcd(
  group: ProcessGroup,
  etcd: string,
  dir: string,
  clientPort: number,
  peerPort: number,
): Promise<void> {
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  group.start({
    name: 'etcd',
    command: etcd,
    args: [
      '--name',
      'shop-test',
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `shop-test=${peerUrl}`,
      // Its data is thrown away with the test; syncing every write to disk only costs time.
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
  await pollUntil(
    async () => {
      const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await response.json()) as { health?: string };
      return body.health === 'true' ? true : undefined;
    },
    {
      what: `etcd to become healthy on ${clientUrl}`,
      timeoutMs: 20_000,
      intervalMs: 50,
      giveUpIf: () => (group.has('etcd') ? undefined : 'etcd exited during start'),
    },
  );
}

function startKubeApiserver(
  group: ProcessGroup,
  kubeApiserver: string,
  dir: string,
  options: { etcdUrl: string; port: number; token: string; certDir: string },
): void {
  // token,user,uid,"groups": system:masters passes every RBAC check, as kind's admin does.
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${options.token},shop-admin,shop-admin,"system:masters"\n`, {
    mode: 0o600,
  });
  // The key that signs and verifies service-account tokens; no controller asks for one,
  // but the server refuses to start without it.
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyFile = join(dir, 'service-account.key');
  const publicKeyFile = join(dir, 'service-account.pub');
  writeFileSync(privateKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  group.start({
    name: 'kube-apiserver',
    command: kubeApiserver,
    args: [
      '--etcd-servers',
      options.etcdUrl,
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      String(options.port),
      '--advertise-address',
      '127.0.0.1',
      // The reconciler would publish the advertise address as the `kubernetes` Service's
      // endpoint, and it refuses a loopback one.
      '--endpoint-reconciler-type',
      'none',
      // It writes a self-signed serving certificate here.
      '--cert-dir',
      options.certDir,
      '--token-auth-file',
      tokenFile,
      // RBAC, as a real cluster has, so the chart's Roles and RoleBindings are validated
      // and stored as such.
      '--authorization-mode',
      'RBAC',
      '--service-account-key-file',
      publicKeyFile,
      '--service-account-signing-key-file',
      privateKeyFile,
      '--service-account-issuer',
      'https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range',
      '10.96.0.0/12',
      // Request queues per priority level are of no use to one test client and cost memory.
      '--enable-priority-and-fairness=false',
      '--profiling=false',
    ],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
}

async function waitUntilReady(
  group: ProcessGroup,
  server: string,
  token: string,
  caFile: string,
): Promise<void> {
  await pollUntil(
    async () => {
      if (!existsSync(caFile)) return undefined;
      const response = await request(`${server}/readyz`, token, readFileSync(caFile));
      return response?.status === 200 ? true : undefined;
    },
    {
      what: `kube-apiserver to be ready on ${server}`,
      timeoutMs: 90_000,
      intervalMs: 200,
      giveUpIf: () =>
        group.has('kube-apiserver') ? undefined : 'kube-apiserver exited during start',
    },
  );
}

async function readVersion(server: string, token: string, ca: Buffer): Promise<string> {
  const response = await request(`${server}/version`, token, ca);
  const version = response?.status === 200 ? JSON.parse(response.body).gitVersion : undefined;
  if (typeof version !== 'string') throw new Error(`${server}/version did not answer`);
  return version;
}

/** A GET that verifies the server against `ca`; undefined when nothing answered. */
function request(
  url: string,
  token: string,
  ca: Buffer,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.setTimeout(2_000, () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function kubeconfigFor(server: string, token: string, ca: Buffer): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: testClusterContext,
        cluster: { server, 'certificate-authority-data': ca.toString('base64') },
      },
    ],
    users: [{ name: testClusterContext, user: { token } }],
    contexts: [
      {
        name: testClusterContext,
        context: { cluster: testClusterContext, user: testClusterContext },
      },
    ],
    'current-context': testClusterContext,
  });
}

function withoutKubeconfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { KUBECONFIG: _ignored, ...rest } = env;
  return rest;
}

/**
 * Dapr's CRDs as the pinned dapr module ships them (charts/dapr/crds of the version in
 * tools/daprd/go.mod), read from the Go module cache. A CRD converted by a webhook (the
 * Subscription's two versions) gets no conversion instead: only Dapr's operator serves that
 * webhook, and without it the API server retries it forever and fails every list.
 */
export function daprCustomResourceDefinitions(repoRoot: string): {
  yaml: string;
  names: string[];
} {
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) throw new Error("Go is needed to read Dapr's CRDs from the dapr module");
  const download = spawnSync(go, ['mod', 'download', '-json', 'github.com/dapr/dapr'], {
    cwd: join(repoRoot, 'tools/daprd'),
    encoding: 'utf8',
  });
  const moduleDir = download.status === 0 ? (JSON.parse(download.stdout).Dir as string) : '';
  if (!moduleDir)
    throw new Error(`go mod download github.com/dapr/dapr failed: ${download.stderr}`);
  const crdDir = join(moduleDir, 'charts/dapr/crds');
  const names: string[] = [];
  const documents: string[] = [];
  for (const file of readdirSync(crdDir).filter((name) => name.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const crd = doc.toJS() as {
        kind?: string;
        metadata: { name: string };
        spec: { conversion?: { strategy?: string } };
      } | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      if (crd.spec.conversion?.strategy === 'Webhook') crd.spec.conversion = { strategy: 'None' };
      names.push(crd.metadata.name);
      documents.push(stringify(crd));
    }
  }
  if (names.length === 0) throw new Error(`no CRDs in ${crdDir}`);
  return { yaml: documents.join('---\n'), names };
}

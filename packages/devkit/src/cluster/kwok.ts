import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from '../process/poll.ts';
import { ProcessGroup } from '../process/processes.ts';
import { findExecutables } from '../process/system.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';
import { kubeApiserverTool, type TestCluster } from './kube.ts';

// What the test cluster of kube.ts lacks for workloads to progress: the controllers that
// turn Deployments and Jobs into pods, the scheduler that puts pods on a node, and kwok,
// which plays that node and reports its pods running, ready or, for a Job, completed. No
// container ever runs; a pod is an object whose status kwok writes.

const kwokModule = 'sigs.k8s.io/kwok';

export const kwokTool: GoTool = {
  name: 'kwok',
  wrapperDir: 'tools/kwok',
  module: kwokModule,
  mainPackage: `${kwokModule}/cmd/kwok`,
  // The release is a constant in kwok's source, so the binary reports it unstamped.
  ldflags: () => '-s -w',
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['--version'],
  versionFrom: (output) => /^kwok version v(\S+)/m.exec(output)?.[1],
  pathVariable: 'KWOK_PATH',
};

/** The kube-apiserver's stamping and version check, for a sibling command of its release. */
function kubernetesCommand(name: string, pathVariable: string): GoTool {
  return {
    ...kubeApiserverTool,
    name,
    wrapperDir: 'tools/kube-controllers',
    mainPackage: `k8s.io/kubernetes/cmd/${name}`,
    pathVariable,
  };
}

export const kubeControllerManagerTool = kubernetesCommand(
  'kube-controller-manager',
  'KUBE_CONTROLLER_MANAGER_PATH',
);
export const kubeSchedulerTool = kubernetesCommand('kube-scheduler', 'KUBE_SCHEDULER_PATH');

export type FakeNodeTools = { kubeControllerManager: string; kubeScheduler: string; kwok: string };

/**
 * kube-controller-manager, kube-scheduler (tools/kube-controllers) and kwok (tools/kwok) of
 * their pinned versions, each built once and cached like daprd. The scheduler reuses most of
 * the controller manager's compiled packages, so it is built second.
 */
export function resolveFakeNodeTools(repoRoot: string): FakeNodeTools {
  return {
    kubeControllerManager: resolveGoTool(repoRoot, kubeControllerManagerTool),
    kubeScheduler: resolveGoTool(repoRoot, kubeSchedulerTool),
    kwok: resolveGoTool(repoRoot, kwokTool),
  };
}

/**
 * The stage files kwok's own "fast" setup uses, read from the pinned kwok module: a node
 * that turns Ready and keeps its heartbeat, pods that turn Ready at once, pods of a Job
 * that complete, and deleted pods that go away.
 */
function kwokStageFiles(repoRoot: string): string[] {
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) throw new Error("Go is needed to read kwok's stages from the kwok module");
  const download = spawnSync(go, ['mod', 'download', '-json', kwokModule], {
    cwd: join(repoRoot, kwokTool.wrapperDir),
    encoding: 'utf8',
  });
  const moduleDir = download.status === 0 ? (JSON.parse(download.stdout).Dir as string) : '';
  if (!moduleDir) throw new Error(`go mod download ${kwokModule} failed: ${download.stderr}`);
  return [
    'node/fast/node-initialize.yaml',
    'node/heartbeat/node-heartbeat.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
  ].map((path) => join(moduleDir, 'kustomize/stage', path));
}

export const fakeNodeName = 'kwok-node';

export type FakeNodes = {
  /** The last lines the three wrote, for an error message. */
  output(): string;
  stop(): Promise<void>;
};

/**
 * Runs the controllers, the scheduler and kwok against the test cluster, with one fake node
 * that takes any pod. Resolves once the node is Ready and the `default` namespace has its
 * service account (without it, the API server refuses pods that do not name another).
 */
export async function startFakeNodes(
  cluster: TestCluster,
  options: { repoRoot: string },
): Promise<FakeNodes> {
  const tools = resolveFakeNodeTools(options.repoRoot);
  let output = '';
  const group = new ProcessGroup({
    output: (name, line) => {
      output = `${output}${name}: ${line}\n`.slice(-16_000);
    },
    onUnexpectedExit: () => {},
  });
  const stop = () =>
    group.stopInStages([['kwok'], ['kube-scheduler', 'kube-controller-manager']], 5_000);
  try {
    startControlLoops(group, cluster, tools);
    await createFakeNode(cluster);
    startKwok(group, cluster, tools.kwok, kwokStageFiles(options.repoRoot));
    await waitFor(
      () =>
        cluster.kubectl(['wait', '--for=condition=Ready', `node/${fakeNodeName}`, '--timeout=5s']),
      group,
      `node ${fakeNodeName} to be Ready`,
    );
    await waitFor(
      () => cluster.kubectl(['get', 'serviceaccount', 'default', '--namespace', 'default']),
      group,
      'the default service account',
    );
    return { output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`the fake node did not start: ${(error as Error).message}\n${output}`);
  }
}

/** The controllers (service-account tokens among them) and the scheduler. */
function startControlLoops(group: ProcessGroup, cluster: TestCluster, tools: FakeNodeTools): void {
  const env = { PATH: process.env.PATH };
  const common = ['--kubeconfig', cluster.kubeconfig, '--leader-elect=false'];
  group.start({
    name: 'kube-controller-manager',
    command: tools.kubeControllerManager,
    args: [
      ...common,
      // Nothing needs its metrics or health endpoints, and a fixed port could be taken.
      '--secure-port=0',
      // The key kube-apiserver verifies service-account tokens with, so the token
      // controller may sign them.
      '--service-account-private-key-file',
      join(cluster.dir, 'service-account.key'),
      '--use-service-account-credentials=false',
    ],
    cwd: cluster.dir,
    env,
  });
  group.start({
    name: 'kube-scheduler',
    command: tools.kubeScheduler,
    args: [...common, '--secure-port=0'],
    cwd: cluster.dir,
    env,
  });
}

async function createFakeNode(cluster: TestCluster): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: fakeNodeName,
      labels: {
        'kubernetes.io/hostname': fakeNodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
      // Tells an admin reading the cluster that no kubelet is behind this node.
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
  };
  const created = await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(node));
  if (created.status !== 0) throw new Error(`creating the fake node failed: ${created.stderr}`);
}

function startKwok(
  group: ProcessGroup,
  cluster: TestCluster,
  kwok: string,
  stages: string[],
): void {
  group.start({
    name: 'kwok',
    command: kwok,
    args: [
      ...['--kubeconfig', cluster.kubeconfig, '--manage-single-node', fakeNodeName],
      ...stages.flatMap((file) => ['--config', file]),
      // Its kubelet-like API (logs, exec) is of no use without containers.
      ...['--server-address', ''],
    ],
    cwd: cluster.dir,
    env: { PATH: process.env.PATH, HOME: cluster.dir },
  });
}

async function waitFor(
  attempt: () => Promise<{ status: number | null }>,
  group: ProcessGroup,
  what: string,
): Promise<void> {
  const gone = () =>
    ['kube-controller-manager', 'kube-scheduler', 'kwok'].find((name) => !group.has(name));
  await pollUntil(async () => ((await attempt()).status === 0 ? true : undefined), {
    what,
    timeoutMs: 60_000,
    intervalMs: 500,
    giveUpIf: () => {
      const name = gone();
      return name && `${name} exited while waiting for ${what}`;
    },
  });
}

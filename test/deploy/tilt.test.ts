// The Tiltfile run by a real Tilt (0.37.6, built once from ../shared/tools/tilt and cached,
// packages/devkit/src/toolchain/tilt.ts). `tilt alpha tiltfile-result` evaluates it as
// `tilt up` would and prints the resources, image builds and live-update rules it yields;
// it reads the kube context's name but never contacts the cluster, so a kubeconfig naming
// `kind-shop` is enough. `tilt ci` then runs it end to end where the machine allows: images
// built through podman's Docker API, deployed to a throw-away API server whose only node is
// kwok's fake one (no container starts, so live update and container start-up are not
// exercised here).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import {
  type FakeNodes,
  resolveHelm,
  resolveKubeTools,
  startFakeNodes,
  startTestCluster,
  type TestCluster,
} from '@shop/devkit/cluster';
import { buildServiceImages } from '@shop/devkit/images';
import {
  type CommandResult,
  ensureDebianProgram,
  findExecutables,
  findRepoRoot,
  freePorts,
  ProcessGroup,
  pollUntil,
  runCommand,
} from '@shop/devkit/process';
import { skipWhenMissing, unlessMissing } from '@shop/devkit/testing';
import { resolveTilt } from '@shop/devkit/toolchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { K8sObject } from './support/chart.ts';

type Sync = { localPath: string; containerPath: string };
type ImageTarget = {
  selector: string;
  LiveUpdateSpec: { basePath?: string; stopPaths?: string[]; syncs?: Sync[] };
  BuildDetails: { context: string; target?: string; args?: string[]; dockerfileContents: string };
  FileWatchIgnores: { basePath: string; patterns?: string[] }[] | null;
};
type Link = { URL: { Scheme: string; Host: string; Path: string }; Name: string };
type DeployTarget = {
  yaml?: string;
  imageMaps?: string[] | null;
  Links?: Link[] | null;
  portForwardTemplateSpec?: { forwards: { localPort: number; containerPort: number }[] };
  UpdateCmdSpec?: { args: string[] };
};
type Manifest = {
  Name: string;
  ImageTargets: ImageTarget[] | null;
  DeployTarget: DeployTarget;
  ResourceDependencies: string[] | null;
  Labels: Record<string, string> | null;
};
type TiltfileResult = { Manifests: Manifest[]; EnabledManifests: string[] };

const repoRoot = findRepoRoot(import.meta.dirname);
const chartDir = join(repoRoot, 'charts/shop');
const devDir = join(chartDir, 'dev');
const kindContext = 'kind-shop';
const chartValues = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
  image: { registry: string };
  services: Record<
    string,
    { port: number; database?: unknown; mongodb?: unknown; secretStoreReads?: string[] }
  >;
  jwt: { secretName: string };
};
const registry = chartValues.image.registry;
const serviceFolders = readdirSync(join(repoRoot, 'services'))
  .filter((name) => existsSync(join(repoRoot, 'services', name, 'package.json')))
  .sort();
const databaseServices = serviceFolders.filter((name) => chartValues.services[name]?.database);
// Every Deployment of the dev manifests is a resource of its own (Redis, PostgreSQL, MongoDB,
// the mail server, ...).
const infraResources = parseAllDocuments(readFileSync(join(devDir, 'infra.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as K8sObject | null)
  .filter((obj) => obj?.kind === 'Deployment')
  .map((obj) => (obj as K8sObject).metadata.name);
const brokerProfiles = ['rabbitmq', 'kafka', 'nats'];
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

const scratch = mkdtempSync(join(tmpdir(), 'shop-tilt-'));
let tilt = '';
let helmDir = '';

beforeAll(() => {
  tilt = resolveTilt(repoRoot);
  helmDir = dirname(resolveHelm(repoRoot));
}, 15 * 60_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A kubeconfig whose current context has this name. tiltfile-result never connects, so the
 * server is a loopback port nothing listens on: no run of it can reach a real cluster.
 */
function offlineKubeconfig(context: string): string {
  const path = join(scratch, `kubeconfig-${context}`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: 'https://127.0.0.1:1' } }],
    users: [{ name: context, user: { token: 'never-sent' } }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    'current-context': context,
  };
  writeFileSync(path, stringify(config));
  return path;
}

/** The environment Tilt runs in: the pinned helm first on PATH, no profile unless given. */
function tiltEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const {
    KUBECONFIG: _kubeconfig,
    SHOP_BROKER: _broker,
    SHOP_STATE_STORE: _stateStore,
    DOCKER_HOST: _dockerHost,
    ...env
  } = process.env;
  return {
    ...env,
    PATH: [helmDir, env.PATH ?? ''].join(delimiter),
    // Tilt keeps its state under ~/.local/share/tilt-dev; this run's stays in the scratch folder.
    HOME: join(scratch, 'home'),
    ...extra,
  };
}

async function tiltfileResult(
  options: { context?: string; profile?: Record<string, string> } = {},
): Promise<{ run: CommandResult; result: TiltfileResult; seconds: number }> {
  const kubeconfig = offlineKubeconfig(options.context ?? kindContext);
  const started = performance.now();
  const run = await runCommand(tilt, ['alpha', 'tiltfile-result'], {
    cwd: repoRoot,
    env: tiltEnv({ KUBECONFIG: kubeconfig, ...options.profile }),
    timeoutMs: 60_000,
  });
  const seconds = (performance.now() - started) / 1000;
  const result =
    run.status === 0
      ? (JSON.parse(run.stdout) as TiltfileResult)
      : { Manifests: [], EnabledManifests: [] };
  return { run, result, seconds };
}

function manifest(result: TiltfileResult, name: string): Manifest {
  const found = result.Manifests.find((entry) => entry.Name === name);
  if (!found) {
    throw new Error(`no resource ${name}; Tilt yielded ${result.EnabledManifests.join(', ')}`);
  }
  return found;
}

function objectsOf(entry: Manifest): K8sObject[] {
  return parseAllDocuments(entry.DeployTarget.yaml ?? '')
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null);
}

function kindsAndNames(entry: Manifest): string[] {
  return objectsOf(entry).map((obj) => `${obj.kind}/${obj.metadata.name}`);
}

function imagesOf(workload: K8sObject): string[] {
  const pod = workload.spec.template.spec as { containers: { image: string }[] };
  return pod.containers.map((container) => container.image);
}

function withoutTag(image: string): string {
  return image.replace(/:[^/:]+$/, '');
}

function objectsOfFile(path: string): K8sObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null);
}

type PodTemplate = {
  metadata?: { annotations?: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    containers: PodContainer[];
    initContainers?: PodContainer[];
    volumes?: {
      secret?: { secretName: string };
      configMap?: { name: string };
      projected?: { sources: { secret?: { name: string }; configMap?: { name: string } }[] };
    }[];
  };
};
type PodContainer = {
  image: string;
  env?: {
    valueFrom?: { secretKeyRef?: { name: string }; configMapKeyRef?: { name: string } };
  }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
};

/**
 * What a pod cannot start without, as "Kind/name": the Secrets and ConfigMaps its containers
 * and volumes read, its service account, and what its Dapr sidecar reads (the token Secrets,
 * env-from-secret, and the Secrets of the components scoped to its app).
 */
function podNeeds(workload: K8sObject, components: K8sObject[]): string[] {
  const template = workload.spec.template as PodTemplate;
  const needs = new Set<string>();
  const secret = (name?: string) => name && needs.add(`Secret/${name}`);
  const configMap = (name?: string) => name && needs.add(`ConfigMap/${name}`);
  for (const container of [...template.spec.containers, ...(template.spec.initContainers ?? [])]) {
    for (const variable of container.env ?? []) {
      secret(variable.valueFrom?.secretKeyRef?.name);
      configMap(variable.valueFrom?.configMapKeyRef?.name);
    }
    for (const source of container.envFrom ?? []) {
      secret(source.secretRef?.name);
      configMap(source.configMapRef?.name);
    }
  }
  for (const volume of template.spec.volumes ?? []) {
    secret(volume.secret?.secretName);
    configMap(volume.configMap?.name);
    for (const source of volume.projected?.sources ?? []) {
      secret(source.secret?.name);
      configMap(source.configMap?.name);
    }
  }
  if (template.spec.serviceAccountName) {
    needs.add(`ServiceAccount/${template.spec.serviceAccountName}`);
  }
  const annotations = template.metadata?.annotations ?? {};
  const appId =
    annotations['dapr.io/enabled'] === 'true' ? annotations['dapr.io/app-id'] : undefined;
  if (appId) {
    secret(annotations['dapr.io/api-token-secret']);
    secret(annotations['dapr.io/app-token-secret']);
    // VAR=secret:key or VAR=secret, comma-separated
    for (const pair of (annotations['dapr.io/env-from-secret'] ?? '').split(',').filter(Boolean)) {
      secret(pair.split('=')[1]?.split(':')[0]);
    }
    for (const component of components) {
      const scopes = component.scopes as string[] | undefined;
      if (scopes && !scopes.includes(appId)) continue;
      for (const item of (component.spec?.metadata ?? []) as {
        secretKeyRef?: { name: string };
      }[]) {
        secret(item.secretKeyRef?.name);
      }
    }
  }
  return [...needs];
}

/**
 * For every workload Tilt deploys, what it needs that neither its own resource nor one it
 * (transitively) waits for creates. Tilt starts a resource as soon as its dependencies are
 * ready, so anything listed would be missing when the pod starts (or never exist at all).
 */
function unmetNeeds(result: TiltfileResult): string[] {
  // Kubernetes puts these in every namespace itself.
  const fromTheCluster = ['ConfigMap/kube-root-ca.crt', 'ServiceAccount/default'];
  const byName = new Map(result.Manifests.map((entry) => [entry.Name, entry]));
  const provider = new Map<string, string>();
  for (const entry of result.Manifests) {
    for (const obj of objectsOf(entry))
      provider.set(`${obj.kind}/${obj.metadata.name}`, entry.Name);
    // A local resource's command makes the Secret of its name (the signing keys).
    if (entry.DeployTarget.UpdateCmdSpec) provider.set(`Secret/${entry.Name}`, entry.Name);
  }
  const components = result.Manifests.flatMap(objectsOf).filter(
    (obj) => obj.apiVersion.startsWith('dapr.io/') && obj.kind === 'Component',
  );
  const closure = (name: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(name)) return seen;
    seen.add(name);
    for (const dep of byName.get(name)?.ResourceDependencies ?? []) closure(dep, seen);
    return seen;
  };
  const unmet: string[] = [];
  for (const entry of result.Manifests) {
    const before = closure(entry.Name);
    for (const workload of objectsOf(entry).filter((obj) => obj.spec?.template?.spec)) {
      for (const need of podNeeds(workload, components)) {
        if (fromTheCluster.includes(need)) continue;
        const from = provider.get(need);
        if (!from) unmet.push(`${entry.Name}: ${need} is created by no resource`);
        else if (!before.has(from)) {
          unmet.push(`${entry.Name}: ${need} comes from ${from}, which it does not wait for`);
        }
      }
    }
  }
  return unmet;
}

function expectResult(outcome: { run: CommandResult }): void {
  expect(outcome.run.status, `tilt alpha tiltfile-result failed:\n${outcome.run.stderr}`).toBe(0);
}

describe(`tilt alpha tiltfile-result in the ${kindContext} context`, () => {
  let result: TiltfileResult;

  beforeAll(async () => {
    const outcome = await tiltfileResult();
    expectResult(outcome);
    result = outcome.result;
    console.error(`tiltfile-result (${kindContext}) took ${outcome.seconds.toFixed(1)} s`);
  });

  it('knows every service folder (one missing from the chart would be left out silently)', () => {
    expect(serviceFolders.length).toBeGreaterThan(0);
    expect(serviceFolders.filter((name) => !chartValues.services[name])).toEqual([]);
  });

  it('yields exactly the services, their migrations, the infrastructure and the setup resources', () => {
    const expected = [
      ...serviceFolders,
      ...databaseServices.map((name) => `${name}-migrate`),
      ...infraResources,
      'shop-setup',
      'infra-setup',
      chartValues.jwt.secretName,
    ];
    expect(infraResources).toEqual(expect.arrayContaining(['redis', 'postgres', 'mongodb']));
    // Objects the Tiltfile assigns to no resource land in "uncategorized": deployed at once,
    // waiting for nothing.
    const uncategorized = result.Manifests.find((entry) => entry.Name === 'uncategorized');
    expect(uncategorized ? kindsAndNames(uncategorized) : [], 'objects in no resource').toEqual([]);
    expect([...result.EnabledManifests].sort()).toEqual([...expected].sort());
  });

  it("deploys each service's Deployment from its own image, built from the Dockerfile's dev target", () => {
    for (const name of serviceFolders) {
      const entry = manifest(result, name);
      const deployment = objectsOf(entry).find((obj) => obj.kind === 'Deployment');
      expect(deployment?.metadata.name, name).toBe(name);
      const image = `${registry}/${name}`;
      // Tilt matches the built image by name; the chart's tag is replaced at deploy time.
      expect(imagesOf(deployment as K8sObject).map(withoutTag)).toContain(image);
      expect(entry.ImageTargets?.map((target) => target.selector)).toEqual([image]);
      const build = (entry.ImageTargets as ImageTarget[])[0] as ImageTarget;
      expect(build.BuildDetails.context).toBe(repoRoot);
      expect(build.BuildDetails.target).toBe('dev');
      expect(build.BuildDetails.args).toEqual([`SERVICE=${name}`]);
      expect(build.BuildDetails.dockerfileContents).toBe(dockerfile);
      expect(entry.DeployTarget.imageMaps).toEqual([`${registry}_${name}`]);
      expect(entry.Labels).toEqual({ shop: 'shop' });
    }
    expect(dockerfile).toMatch(/^FROM app AS dev$/m);
  });

  it("takes only the workspace's manifests, the platform and the service's own folder into its build", () => {
    for (const name of serviceFolders) {
      const build = (manifest(result, name).ImageTargets as ImageTarget[])[0] as ImageTarget;
      // docker_build(only=...) becomes "ignore everything but these".
      const only = build.FileWatchIgnores?.find((ignore) => ignore.patterns?.[0] === '**');
      expect(only?.basePath, name).toBe(repoRoot);
      expect(only?.patterns?.slice(1).sort()).toEqual(
        ['!package.json', '!package-lock.json', '!packages/platform', `!services/${name}`].sort(),
      );
    }
  });

  it('live-updates the platform and service sources into /app, rebuilding when a package manifest changes', () => {
    // The Dockerfile puts the workspace at /app, so these are where the sources are.
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY packages\/platform packages\/platform$/m);
    expect(dockerfile).toMatch(/^COPY services\/\$\{SERVICE\} services\/\$\{SERVICE\}$/m);
    for (const name of serviceFolders) {
      const build = (manifest(result, name).ImageTargets as ImageTarget[])[0] as ImageTarget;
      expect(build.LiveUpdateSpec.basePath).toBe(repoRoot);
      expect(build.LiveUpdateSpec.syncs).toEqual([
        { localPath: 'packages/platform/src', containerPath: '/app/packages/platform/src' },
        { localPath: `services/${name}/src`, containerPath: `/app/services/${name}/src` },
      ]);
      for (const sync of build.LiveUpdateSpec.syncs ?? []) {
        expect(existsSync(join(repoRoot, sync.localPath)), sync.localPath).toBe(true);
      }
      // fall_back_on: a changed manifest means new dependencies, so a full rebuild.
      expect([...(build.LiveUpdateSpec.stopPaths ?? [])].sort()).toEqual(
        [
          'package.json',
          'package-lock.json',
          'packages/platform/package.json',
          `services/${name}/package.json`,
        ].sort(),
      );
    }
  });

  it("runs each database service's migrations as a Job of a runtime image of its own, before the service", () => {
    expect(databaseServices.length).toBeGreaterThan(0);
    for (const name of serviceFolders) {
      const migrate = result.Manifests.find((entry) => entry.Name === `${name}-migrate`);
      if (!databaseServices.includes(name)) {
        expect(migrate, `${name} has no database`).toBeUndefined();
        continue;
      }
      const entry = migrate as Manifest;
      const job = objectsOf(entry);
      expect(job.map((obj) => `${obj.kind}/${obj.metadata.name}`)).toEqual([`Job/${name}-migrate`]);
      const image = `${registry}/${name}-migrations`;
      expect(imagesOf(job[0] as K8sObject).map(withoutTag)).toEqual([image]);
      expect(entry.ImageTargets?.map((target) => target.selector)).toEqual([image]);
      const build = (entry.ImageTargets as ImageTarget[])[0] as ImageTarget;
      expect(build.BuildDetails.target).toBe('runtime');
      expect(build.BuildDetails.args).toEqual([`SERVICE=${name}`]);
      // Nothing to live-update: a finished Job's container cannot take a sync.
      expect(build.LiveUpdateSpec.syncs ?? []).toEqual([]);
      expect(entry.ResourceDependencies).toEqual(['infra-setup', 'postgres']);
      expect(manifest(result, name).ResourceDependencies).toEqual(
        expect.arrayContaining(['postgres', `${name}-migrate`]),
      );
    }
  });

  it('starts Redis, PostgreSQL, MongoDB and the rest of the dev manifests after their Secrets and ConfigMaps', () => {
    for (const name of infraResources) {
      const entry = manifest(result, name);
      expect(kindsAndNames(entry).sort()).toEqual([`Deployment/${name}`, `Service/${name}`]);
      expect(entry.ResourceDependencies).toEqual(['infra-setup']);
      expect(entry.Labels).toEqual({ infra: 'infra' });
    }
    const infraSetup = objectsOfFile(join(devDir, 'infra.yaml'))
      .filter((obj) => ['Secret', 'ConfigMap'].includes(obj.kind))
      .map((obj) => `${obj.kind}/${obj.metadata.name}`);
    expect(infraSetup.length).toBeGreaterThan(0);
    expect(kindsAndNames(manifest(result, 'infra-setup')).sort()).toEqual(infraSetup.sort());
  });

  it("groups the chart's Dapr resources, Secrets, service accounts, RBAC, NetworkPolicies and disruption budgets into shop-setup", () => {
    const objects = objectsOf(manifest(result, 'shop-setup'));
    const kinds = new Set(objects.map((obj) => obj.kind));
    for (const kind of [
      'Component',
      'Configuration',
      'Subscription',
      'Secret',
      'ServiceAccount',
      'NetworkPolicy',
      'PodDisruptionBudget',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    expect(
      objects.filter(
        (obj) =>
          !obj.apiVersion.startsWith('dapr.io/') &&
          ![
            'Secret',
            'ServiceAccount',
            'Role',
            'RoleBinding',
            'NetworkPolicy',
            'PodDisruptionBudget',
            'HorizontalPodAutoscaler',
          ].includes(obj.kind),
      ),
    ).toEqual([]);
    expect(manifest(result, 'shop-setup').ResourceDependencies ?? []).toEqual([]);
  });

  it('starts every pod only after the Secrets, ConfigMaps and service account it reads exist', () => {
    expect(unmetNeeds(result)).toEqual([]);
  });

  it('starts each service after the setup, Redis and what its chart entry says it uses', () => {
    for (const name of serviceFolders) {
      const service = chartValues.services[name] ?? { port: 0 };
      const deps = manifest(result, name).ResourceDependencies ?? [];
      expect(deps, name).toEqual(expect.arrayContaining(['shop-setup', 'redis']));
      expect(deps.includes('mongodb'), `${name} and mongodb`).toBe(Boolean(service.mongodb));
      const readsKeys = (service.secretStoreReads ?? []).includes(chartValues.jwt.secretName);
      expect(deps.includes(chartValues.jwt.secretName), `${name} and the signing keys`).toBe(
        readsKeys,
      );
    }
    // The chart says so today; were it to change, the two checks above would pass vacuously.
    expect(chartValues.services.notifications?.mongodb).toBeTruthy();
    expect(chartValues.services.users?.secretStoreReads).toContain(chartValues.jwt.secretName);
  });

  it('makes the signing keys Secret with kubectl, once, under the name the chart reads', () => {
    const entry = manifest(result, chartValues.jwt.secretName);
    const command = entry.DeployTarget.UpdateCmdSpec?.args.join(' ') ?? '';
    expect(command).toContain(`kubectl get secret ${chartValues.jwt.secretName}`);
    expect(command).toContain('kubectl apply -f -');
    expect(command).toContain('generateSigningKeySet');
    expect(entry.Labels).toEqual({ infra: 'infra' });
  });

  it("starts the gateway last and links to kind's port mapping instead of forwarding a port", () => {
    const entry = manifest(result, 'gateway');
    const others = serviceFolders.filter((name) => name !== 'gateway');
    expect(entry.ResourceDependencies).toEqual(
      expect.arrayContaining(['shop-setup', 'redis', ...others]),
    );
    expect(entry.DeployTarget.portForwardTemplateSpec).toBeUndefined();
    const links = (entry.DeployTarget.Links ?? []).map(
      (link) => `${link.URL.Scheme}://${link.URL.Host}${link.URL.Path}`,
    );
    expect(links).toEqual(['http://localhost:8080/docs']);
    // The link works only if kind maps that host port to the gateway's node port.
    const mapping = (
      parse(readFileSync(join(repoRoot, 'kind-config.yaml'), 'utf8')) as {
        nodes: { extraPortMappings?: { containerPort: number; hostPort: number }[] }[];
      }
    ).nodes.flatMap((node) => node.extraPortMappings ?? []);
    const service = objectsOf(entry).find((obj) => obj.kind === 'Service') as K8sObject;
    expect(service.spec.type).toBe('NodePort');
    const nodePort = service.spec.ports[0].nodePort as number;
    expect(mapping.find((port) => port.containerPort === nodePort)?.hostPort).toBe(8080);
  });
});

describe('tilt alpha tiltfile-result in another context (docker-desktop)', () => {
  let result: TiltfileResult;

  beforeAll(async () => {
    const outcome = await tiltfileResult({ context: 'docker-desktop' });
    expectResult(outcome);
    result = outcome.result;
  });

  it("forwards the gateway's port, since no kind port mapping exists there", () => {
    const entry = manifest(result, 'gateway');
    const port = chartValues.services.gateway?.port;
    expect(entry.DeployTarget.portForwardTemplateSpec?.forwards).toEqual([
      expect.objectContaining({ localPort: 8080, containerPort: port }),
    ]);
    expect(entry.DeployTarget.Links ?? []).toEqual([]);
    const service = objectsOf(entry).find((obj) => obj.kind === 'Service') as K8sObject;
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
  });
});

describe.each(brokerProfiles)('tilt alpha tiltfile-result with SHOP_BROKER=%s', (broker) => {
  let result: TiltfileResult;

  beforeAll(async () => {
    const outcome = await tiltfileResult({ profile: { SHOP_BROKER: broker } });
    expectResult(outcome);
    result = outcome.result;
  });

  it("runs the broker's dev server after its Secret, beside the Redis that rate limits need", () => {
    const entry = manifest(result, broker);
    expect(kindsAndNames(entry).sort()).toEqual([`Deployment/${broker}`, `Service/${broker}`]);
    expect(entry.ResourceDependencies).toEqual(['infra-setup']);
    expect(entry.Labels).toEqual({ infra: 'infra' });
    expect(result.EnabledManifests).toEqual(expect.arrayContaining(infraResources));
    const brokerSecrets = objectsOfFile(join(devDir, `broker-${broker}.yaml`))
      .filter((obj) => ['Secret', 'ConfigMap'].includes(obj.kind))
      .map((obj) => `${obj.kind}/${obj.metadata.name}`);
    expect(brokerSecrets.length).toBeGreaterThan(0);
    expect(kindsAndNames(manifest(result, 'infra-setup'))).toEqual(
      expect.arrayContaining(brokerSecrets),
    );
  });

  it('starts every pod only after the Secrets, ConfigMaps and service account it reads exist', () => {
    expect(unmetNeeds(result)).toEqual([]);
  });

  it('starts every service, the gateway included, only once the broker is up', () => {
    for (const name of serviceFolders) {
      expect(manifest(result, name).ResourceDependencies, name).toContain(broker);
    }
  });

  it("points the sidecars' pub/sub components at this broker", () => {
    const components = objectsOf(manifest(result, 'shop-setup')).filter(
      (obj) => obj.kind === 'Component' && String(obj.spec.type).startsWith('pubsub.'),
    );
    const type = { rabbitmq: 'pubsub.rabbitmq', kafka: 'pubsub.kafka', nats: 'pubsub.jetstream' }[
      broker
    ];
    // The shop's events, and the live streams' broadcast to every notifications replica.
    expect(components.map((obj) => [obj.metadata.name, obj.spec.type]).sort()).toEqual([
      ['broadcast', type],
      ['pubsub', type],
    ]);
  });

  if (broker === 'nats') {
    it('creates the JetStream streams with their Job (not a shop image) before any service starts', () => {
      const entry = manifest(result, 'nats-streams');
      expect(kindsAndNames(entry)).toEqual(['Job/nats-streams']);
      expect(entry.ImageTargets ?? []).toEqual([]);
      const images = imagesOf(objectsOf(entry)[0] as K8sObject);
      expect(images.every((image) => !image.startsWith(`${registry}/`))).toBe(true);
      expect(entry.ResourceDependencies).toEqual(['infra-setup', 'nats']);
      for (const name of serviceFolders) {
        expect(manifest(result, name).ResourceDependencies, name).toContain('nats-streams');
      }
    });
  }
});

describe('tilt alpha tiltfile-result with SHOP_STATE_STORE=postgresql', () => {
  it('starts every service after PostgreSQL, which now holds the state', async () => {
    const outcome = await tiltfileResult({ profile: { SHOP_STATE_STORE: 'postgresql' } });
    expectResult(outcome);
    for (const name of serviceFolders) {
      expect(manifest(outcome.result, name).ResourceDependencies, name).toContain('postgres');
    }
    const stores = objectsOf(manifest(outcome.result, 'shop-setup')).filter(
      (obj) => obj.kind === 'Component' && String(obj.spec.type).startsWith('state.'),
    );
    // The shared store and the cart's own (cartstore), both in PostgreSQL now.
    expect(stores.map((obj) => [obj.metadata.name, obj.spec.type]).sort()).toEqual([
      ['cartstore', 'state.postgresql'],
      ['statestore', 'state.postgresql'],
    ]);
    expect(unmetNeeds(outcome.result)).toEqual([]);
  });
});

describe('tilt alpha tiltfile-result with an unknown profile', () => {
  it('stops with a Tiltfile error naming the choices', async () => {
    const outcome = await tiltfileResult({ profile: { SHOP_BROKER: 'pigeon' } });
    // 5: an error in the Tiltfile rather than in Tilt.
    expect(outcome.run.status).toBe(5);
    expect(outcome.run.stderr).toContain(
      'SHOP_BROKER=pigeon: choose one of redis, rabbitmq, kafka, nats',
    );
  });
});

// `tilt ci` end to end: every piece it needs that this machine may lack, checked before the
// run so that a missing one is reported by name instead of passing silently.
const isRoot = process.getuid?.() === 0;
const debianInstallable = isRoot && existsSync('/usr/bin/apt-get');
const missingPrograms = ['podman', 'runc'].filter(
  (program) => !findExecutables(program, ['/usr/bin', '/usr/sbin'])[0],
);
const ciBlocker =
  missingPrograms.length === 0 || debianInstallable
    ? undefined
    : `${missingPrograms.join(' and ')}: not installed, and Debian's packages can only be installed as root`;
const baseImage = /^FROM\s+(\S+)\s+AS\s+deps$/im.exec(dockerfile)?.[1] ?? 'node:24-slim';

/**
 * Makes the Dockerfile's base image present in the storage podman shares with buildah: on
 * a fresh machine no registry may be reachable, so the images library pulls it or else
 * assembles its stand-in there (what `npm run images` does first, building no service
 * image here). Returns why the base is still missing, or undefined once it is there.
 */
async function ensureBase(podman: string): Promise<string | undefined> {
  const present = async () =>
    (await runCommand(podman, ['image', 'exists', baseImage])).status === 0;
  if (await present()) return undefined;
  if (process.getuid?.() !== 0) {
    return `base image ${baseImage}: not in local storage, and its stand-in (debootstrap) needs root`;
  }
  await buildServiceImages({ services: [], log: (line) => console.error(`tilt ci: ${line}`) });
  return (await present())
    ? undefined
    : `base image ${baseImage}: still not in podman's storage after the images library ensured it`;
}

/** The images Tilt built (it tags each `tilt-<hash>`), as `repository:tag`. */
async function tiltImages(podman: string): Promise<string[]> {
  const listed = await runCommand(podman, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  return listed.stdout.split('\n').filter((ref) => /\/shop\/[^:]+:tilt-[0-9a-f]+$/.test(ref));
}

/** The ids of the storage's working containers (buildah's, podman's builds included). */
async function workingContainers(podman: string): Promise<string[]> {
  const listed = await runCommand(podman, ['ps', '--all', '--external', '--quiet', '--no-trunc']);
  return listed.stdout.split('\n').filter((id) => id !== '');
}

/**
 * Removes what the builds of this run and the images of earlier runs leave in the storage,
 * which is the machine's own: podman 4.3's Docker API leaves a working container behind
 * for each build step (about 200 a run), and each run tagged a dozen new images, so a day
 * of runs held tens of GiB. This run's images stay, so the next build finds its layers
 * cached; the untagged layers only the removed ones held go with them.
 */
async function removeLeftovers(
  podman: string,
  earlier: { containers: Set<string>; images: string[] },
): Promise<void> {
  const removeNewContainers = async () => {
    const made = (await workingContainers(podman)).filter((id) => !earlier.containers.has(id));
    if (made.length > 0) await runCommand(podman, ['rm', '--force', ...made]);
  };
  await removeNewContainers();
  if (earlier.images.length > 0) await runCommand(podman, ['rmi', '--force', ...earlier.images]);
  await runCommand(podman, ['image', 'prune', '--force']);
  // Tilt's own prune at the end of its run leaves a few more, seen only now.
  await removeNewContainers();
}

/**
 * Whether the Docker API on that unix socket answers /version, as Tilt asks first. podman
 * answers its ping at once but /version only once it has read its storage, which waits
 * while a buildah beside it holds the storage lock.
 */
async function dockerApiAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/version', timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

describe('tilt ci against a throw-away API server with a kwok node, images built by podman', () => {
  const title =
    'builds every image, deploys the chart and the dev manifests, runs the migrations and reaches "All workloads are healthy"';
  it.skipIf(unlessMissing(ciBlocker))(
    ciBlocker ? `${title} (skipped: ${ciBlocker})` : title,
    async (context) => {
      const podman = ensureDebianProgram('podman', 'podman');
      const runc = ensureDebianProgram('runc', 'runc');
      skipWhenMissing(context, await ensureBase(podman));
      const earlierImages = await tiltImages(podman);
      const earlierContainers = new Set(await workingContainers(podman));

      const work = join(scratch, 'ci');
      const bin = join(work, 'bin');
      mkdirSync(bin, { recursive: true });
      const kindCalls = join(work, 'kind-calls.log');
      // Tilt hands each image to the kind cluster with `kind load docker-image`. Here the
      // "cluster" pulls nothing (its node is kwok's), so kind only notes what it was asked.
      writeFileSync(join(bin, 'kind'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${kindCalls}'\n`, {
        mode: 0o755,
      });
      const kubectlDir = dirname(resolveKubeTools(repoRoot).kubectl);

      let cluster: TestCluster | undefined;
      let nodes: FakeNodes | undefined;
      let podmanOutput = '';
      const podmanService = new ProcessGroup({
        output: (_name, line) => {
          podmanOutput = `${podmanOutput}${line}\n`.slice(-8_000);
        },
        onUnexpectedExit: () => {},
      });
      try {
        const started = performance.now();
        cluster = await startTestCluster({ repoRoot });
        nodes = await startFakeNodes(cluster, { repoRoot });
        console.error(
          `tilt ci: cluster and fake node ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );

        const socket = join(work, 'podman.sock');
        podmanService.start({
          name: 'podman',
          command: podman,
          args: [
            // podman 4.3's Docker-compatible build endpoint ignores BUILDAH_ISOLATION and runs
            // each RUN step in the OCI runtime; crun refuses this machine's mix of cgroup v1
            // and v2 hierarchies, runc takes it.
            '--runtime',
            runc,
            // No systemd here to manage cgroups or receive events.
            '--cgroup-manager=cgroupfs',
            '--events-backend=file',
            'system',
            'service',
            '--time=0',
            `unix://${socket}`,
          ],
          cwd: work,
          env: process.env,
        });
        await pollUntil(async () => ((await dockerApiAnswers(socket)) ? true : undefined), {
          what: `podman's Docker API on ${socket}`,
          timeoutMs: 120_000,
          intervalMs: 200,
          giveUpIf: () =>
            podmanService.has('podman') ? undefined : `podman exited:\n${podmanOutput}`,
        }).catch((error: Error) => {
          throw new Error(`${error.message}\n${podmanOutput}`);
        });

        const [port] = (await freePorts(1)) as [number];
        const ciStarted = performance.now();
        const run = await runCommand(
          tilt,
          ['ci', '--timeout', '25m', '--host', '127.0.0.1', '--port', String(port)],
          {
            cwd: repoRoot,
            env: tiltEnv({
              KUBECONFIG: cluster.kubeconfig,
              PATH: [bin, kubectlDir, helmDir, process.env.PATH ?? ''].join(delimiter),
              DOCKER_HOST: `unix://${socket}`,
              // podman's Docker API builds with buildah, not BuildKit.
              DOCKER_BUILDKIT: '0',
            }),
            timeoutMs: 30 * 60_000,
          },
        );
        console.error(
          `tilt ci took ${((performance.now() - ciStarted) / 1000).toFixed(0)} s (exit ${run.status})`,
        );
        const output = `${run.stdout}${run.stderr}`;
        // Twelve builds interleave their logs; the errors first, then how it ended.
        const errors = output.split('\n').filter((line) => /\berror\b/i.test(line));
        expect(
          run.status,
          `tilt ci failed; its errors:\n${errors.slice(-40).join('\n')}\n\nits last output:\n${output.slice(-6_000)}`,
        ).toBe(0);
        expect(output).toContain('All workloads are healthy');

        // Every image was built and handed to the cluster by its content tag.
        const loaded = readFileSync(kindCalls, 'utf8');
        const images = [
          ...serviceFolders.map((name) => `${registry}/${name}`),
          ...databaseServices.map((name) => `${registry}/${name}-migrations`),
        ];
        for (const image of images) {
          expect(loaded).toMatch(
            new RegExp(`^load docker-image (docker\\.io/)?${image}:tilt-\\w+ --name shop$`, 'm'),
          );
        }

        // What the cluster holds now: each Deployment available on the built image, each
        // migration Job complete, the signing keys made.
        const deployments = JSON.parse(
          (await cluster.kubectl(['get', 'deployments', '-o', 'json'])).stdout,
        ) as { items: K8sObject[] };
        for (const name of [...serviceFolders, ...infraResources]) {
          const deployment = deployments.items.find((item) => item.metadata.name === name);
          expect(deployment?.status?.availableReplicas, name).toBe(1);
        }
        for (const name of serviceFolders) {
          const deployment = deployments.items.find((item) => item.metadata.name === name);
          expect(imagesOf(deployment as K8sObject)[0], name).toMatch(
            new RegExp(`^(docker\\.io/)?${registry}/${name}:tilt-\\w+$`),
          );
        }
        const jobs = JSON.parse((await cluster.kubectl(['get', 'jobs', '-o', 'json'])).stdout) as {
          items: K8sObject[];
        };
        for (const name of databaseServices) {
          const job = jobs.items.find((item) => item.metadata.name === `${name}-migrate`);
          expect(job?.status?.succeeded, `${name}-migrate`).toBe(1);
        }
        const keys = await cluster.kubectl(['get', 'secret', chartValues.jwt.secretName]);
        expect(keys.status, keys.stderr).toBe(0);
      } catch (error) {
        const extra = [
          nodes ? `controllers and kwok:\n${nodes.output().slice(-3_000)}` : '',
          cluster ? `cluster:\n${cluster.output().slice(-3_000)}` : '',
          `podman:\n${podmanOutput.slice(-3_000)}`,
        ].join('\n');
        (error as Error).message += `\n${extra}`;
        throw error;
      } finally {
        await podmanService.stop('podman', { graceMs: 5_000 });
        await nodes?.stop();
        await cluster?.stop();
        // Not the ones this run loaded: Tilt tags by content, so an image that did not
        // change keeps its earlier tag and is this run's too.
        const loaded = existsSync(kindCalls) ? readFileSync(kindCalls, 'utf8') : '';
        const loadedNow = (ref: string) => {
          const bare = ref.replace(/^docker\.io\//, '');
          return loaded.includes(` ${bare} `) || loaded.includes(` docker.io/${bare} `);
        };
        await removeLeftovers(podman, {
          containers: earlierContainers,
          images: earlierImages.filter((ref) => !loadedNow(ref)),
        });
      }
    },
    40 * 60_000,
  );
});

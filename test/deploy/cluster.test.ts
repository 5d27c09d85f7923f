// The Helm chart installed into a real Kubernetes API server: etcd and kube-apiserver built
// from their Go modules (packages/devkit/src/cluster/kube.ts), with Dapr's CRDs from the
// pinned dapr module. No controller or node runs, so nothing is scheduled; what is checked
// is what a cluster's API server does with the chart: schema validation of every field
// (built-in kinds and Dapr's), admission (the restricted Pod Security Standard, as
// warnings), RBAC objects, Helm's hooks, lookups, upgrades and uninstalls.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveHelm, startTestCluster, type TestCluster } from '@shop/devkit/cluster';
import { type CommandResult, findRepoRoot, pollUntil, runCommand } from '@shop/devkit/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { K8sObject } from './support/chart.ts';

const repoRoot = findRepoRoot(import.meta.dirname);
const chartDir = join(repoRoot, 'charts/shop');
const devDir = join(chartDir, 'dev');
const release = 'shop';
// helm and kubectl against the throw-away API server take seconds each, and far longer on
// a loaded machine (one upgrade took 40 s): a bound on a hang, not a speed assertion.
const slow = { timeout: 180_000 };
const chartValues = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
  services: Record<string, unknown>;
  broker: { profile: string };
  stateStore?: { profile?: string };
  jwt: { secretName: string };
};
// Every service, whichever are enabled by default.
const allServices = Object.keys(chartValues.services).flatMap((name) => [
  '--set',
  `services.${name}.enabled=true`,
]);

let cluster: TestCluster;
let helmPath = '';
let namespaceCount = 0;

beforeAll(async () => {
  helmPath = resolveHelm(repoRoot);
  cluster = await startTestCluster({ repoRoot });
}, 15 * 60_000);

afterAll(async () => {
  await cluster?.stop();
});

function helm(args: string[], timeoutMs = 90_000): Promise<CommandResult> {
  const { KUBECONFIG: _ignored, ...env } = process.env;
  return runCommand(helmPath, ['--kubeconfig', cluster.kubeconfig, ...args], {
    timeoutMs,
    // Helm's caches and settings stay with the cluster, away from the user's.
    env: {
      ...env,
      HELM_CACHE_HOME: join(cluster.dir, 'helm/cache'),
      HELM_CONFIG_HOME: join(cluster.dir, 'helm/config'),
      HELM_DATA_HOME: join(cluster.dir, 'helm/data'),
    },
  });
}

function succeeded(result: CommandResult, what: string): string {
  if (result.status !== 0) {
    const why = result.timedOut ? 'timed out' : `exited ${result.status}`;
    throw new Error(`${what} ${why}:\n${result.stderr}\n${result.stdout}`.slice(0, 6_000));
  }
  return result.stdout;
}

/**
 * A fresh namespace, labelled so that the API server warns about any pod template that
 * breaks the restricted Pod Security Standard, which the chart's hardening promises to meet.
 */
async function freshNamespace(purpose: string): Promise<string> {
  namespaceCount += 1;
  const name = `${purpose}-${namespaceCount}`;
  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'pod-security.kubernetes.io/warn': 'restricted' } },
  };
  succeeded(await cluster.kubectl(['create', '-f', '-'], stringify(namespace)), 'kubectl create');
  return name;
}

function objectsIn(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as unknown)
    .filter((obj): obj is K8sObject => typeof obj === 'object' && obj !== null && 'kind' in obj);
}

const asYaml = (objects: unknown[]) => objects.map((obj) => stringify(obj)).join('---\n');
const isHook = (obj: K8sObject) => Boolean(obj.metadata.annotations?.['helm.sh/hook']);
const hookJobs = (objects: K8sObject[]) =>
  objects
    .filter((obj) => obj.kind === 'Job' && isHook(obj))
    .map((obj) => obj.metadata.name)
    .sort();

/** Everything the chart renders for these values, hooks included, as YAML and as objects. */
async function render(namespace: string, valueArgs: string[], chart = chartDir) {
  const yaml = succeeded(
    await helm(['template', release, chart, '--namespace', namespace, ...valueArgs]),
    'helm template',
  );
  return { yaml, objects: objectsIn(yaml) };
}

/** `kubectl apply` as the API server would take it, changing nothing: unknown fields fail. */
function strictDryRun(namespace: string, yaml: string): Promise<CommandResult> {
  return cluster.kubectl(
    [
      'apply',
      '--server-side',
      '--dry-run=server',
      '--validate=strict',
      // Objects a release already holds belong to helm's field manager; the check is of
      // the objects, not of who manages which field.
      '--force-conflicts',
      '--namespace',
      namespace,
      '-f',
      '-',
    ],
    yaml,
  );
}

function expectAcceptedWithoutWarnings(result: CommandResult): void {
  succeeded(result, 'the strict server-side dry run');
  expect(result.stderr, 'the API server warned').not.toMatch(/warning/i);
}

/**
 * Every Secret the objects read without creating it, with the keys they read: what must
 * exist before the pods can start. Found wherever Kubernetes or Dapr's injector looks:
 * secretKeyRef (env, Dapr component metadata), envFrom, secret volumes and TLS, the
 * injector's token and env-from-secret annotations, and Roles granting access to named
 * Secrets (what an app reads through Dapr's Kubernetes secret store).
 */
function secretsReadButNotCreated(objects: K8sObject[]): Map<string, Set<string>> {
  const needed = new Map<string, Set<string>>();
  const need = (name: string, key?: string) => {
    const keys = needed.get(name) ?? new Set<string>();
    if (key) keys.add(key);
    needed.set(name, keys);
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const node = value as Record<string, unknown>;
    const keyRef = node.secretKeyRef as { name?: string; key?: string } | undefined;
    if (keyRef?.name) need(keyRef.name, keyRef.key);
    const envFrom = node.secretRef as { name?: string } | undefined;
    if (envFrom?.name) need(envFrom.name);
    if (typeof node.secretName === 'string') need(node.secretName);
    for (const child of Object.values(node)) visit(child);
  };
  for (const obj of objects) {
    visit(obj);
    const annotations: Record<string, string> = obj.spec?.template?.metadata?.annotations ?? {};
    for (const annotation of ['dapr.io/app-token-secret', 'dapr.io/api-token-secret']) {
      const secret = annotations[annotation];
      if (secret) need(secret, 'token');
    }
    // NAME=secret:key,NAME=secret:key
    for (const pair of (annotations['dapr.io/env-from-secret'] ?? '').split(',')) {
      const [secret, key] = pair.split('=')[1]?.split(':') ?? [];
      if (secret) need(secret, key);
    }
    if (obj.kind === 'Role') {
      for (const rule of obj.rules ?? []) {
        if (!rule.resources?.includes('secrets')) continue;
        for (const name of rule.resourceNames ?? []) need(name);
      }
    }
  }
  for (const obj of objects) if (obj.kind === 'Secret') needed.delete(obj.metadata.name);
  return needed;
}

/** Creates what an operator would before `helm install`: the Secrets the chart only refers to. */
async function createSecretsFor(namespace: string, objects: K8sObject[]): Promise<string[]> {
  const needed = secretsReadButNotCreated(objects);
  const secrets = [...needed].map(([name, keys]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    stringData: Object.fromEntries(
      [...(keys.size > 0 ? keys : ['value'])].map((key) => [key, `placeholder-${name}-${key}`]),
    ),
  }));
  if (secrets.length > 0) {
    succeeded(
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], asYaml(secrets)),
      'creating Secrets',
    );
  }
  return [...needed.keys()].sort();
}

/** Which of the YAML's objects exist on the server, as kind/name. */
async function existing(namespace: string, objects: unknown[]): Promise<string[]> {
  if (objects.length === 0) return [];
  const result = await cluster.kubectl(
    ['get', '--namespace', namespace, '--ignore-not-found', '-o', 'name', '-f', '-'],
    asYaml(objects),
  );
  return succeeded(result, 'kubectl get').split('\n').filter(Boolean).sort();
}

/**
 * Marks one Job Complete through its status subresource, as the Job controller would once
 * its pod exited 0. The API server takes Complete only together with SuccessCriteriaMet,
 * a start and completion time and a success count.
 */
function completeJob(namespace: string, name: string): Promise<CommandResult> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string) => ({
    type,
    status: 'True',
    lastProbeTime: now,
    lastTransitionTime: now,
  });
  const status = {
    startTime: now,
    completionTime: now,
    succeeded: 1,
    conditions: [condition('SuccessCriteriaMet'), condition('Complete')],
  };
  return cluster.kubectl([
    'patch',
    'job',
    name,
    '--namespace',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** Completes every Job of `namespace` not in `completed` yet, and adds it there. */
async function completeNewJobs(namespace: string, completed: Set<string>): Promise<void> {
  const listed = await cluster.kubectl(['get', 'jobs', '--namespace', namespace, '-o', 'json']);
  const jobs: K8sObject[] = listed.status === 0 ? JSON.parse(listed.stdout).items : [];
  for (const job of jobs) {
    const name = job.metadata.name;
    if (completed.has(name)) continue;
    if ((await completeJob(namespace, name)).status === 0) completed.add(name);
  }
}

/**
 * `helm install` or `helm upgrade` with its hooks. The migration Jobs (and the nats
 * profile's streams Job) are pre-install/pre-upgrade hooks, and helm creates them one by
 * one, waiting for each to complete before the next and before the release's other
 * objects. With no Job controller here, the test completes each Job as it appears; helm
 * then goes on, and deletes it (hook-succeeded). `--no-hooks` would skip them altogether.
 */
async function helmWithHooks(
  namespace: string,
  args: string[],
): Promise<{ output: string; hooksRun: string[] }> {
  const run = helm([...args, '--namespace', namespace, '--timeout', '60s']);
  let finished = false;
  void run.finally(() => {
    finished = true;
  });
  const completed = new Set<string>();
  // Completes each hook Job as it appears, until helm is done (its own timeout is 60 s).
  await pollUntil(
    async () => {
      if (finished) return true;
      await completeNewJobs(namespace, completed);
      return undefined;
    },
    { what: `helm ${args[0]} in ${namespace}`, timeoutMs: 90_000, intervalMs: 150 },
  );
  const output = succeeded(await run, `helm ${args[0]}`);
  return { output, hooksRun: [...completed].sort() };
}

/**
 * Validates everything the values render (hooks included) strictly, creates the Secrets it
 * refers to, installs with hooks, and checks that every non-hook object is stored and no
 * hook Job is left. `validate: false` for a chart already released, which is what it is.
 */
async function validateAndInstall(
  namespace: string,
  valueArgs: string[],
  { chart = chartDir, validate = true } = {},
) {
  const rendered = await render(namespace, valueArgs, chart);
  if (validate) expectAcceptedWithoutWarnings(await strictDryRun(namespace, rendered.yaml));
  const secrets = await createSecretsFor(namespace, rendered.objects);
  const { output, hooksRun } = await helmWithHooks(namespace, [
    'install',
    release,
    chart,
    ...valueArgs,
  ]);
  expect(output).toMatch(/^STATUS: deployed$/m);
  expect(hooksRun).toEqual(hookJobs(rendered.objects));
  const stored = rendered.objects.filter((obj) => !isHook(obj));
  expect(await existing(namespace, stored)).toHaveLength(stored.length);
  expect(await existing(namespace, rendered.objects.filter(isHook))).toEqual([]);
  if (validate) {
    // What the operator had to create is what the NOTES tell them to create.
    const notes = output.slice(output.indexOf('NOTES:'));
    for (const secret of secrets) {
      expect.soft(notes, `the NOTES name Secret ${secret}`).toContain(secret);
    }
  }
  return { rendered, secrets };
}

describe('the throw-away API server', () => {
  it("reports the pinned Kubernetes version and serves Dapr's CRDs without their conversion webhook", async () => {
    const goMod = readFileSync(join(repoRoot, 'tools/kube-apiserver/go.mod'), 'utf8');
    expect(cluster.version).toBe(/^\s*k8s\.io\/kubernetes (v\S+)/m.exec(goMod)?.[1]);
    const listed = await cluster.kubectl([
      'get',
      'crd',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.conversion.strategy}{"\\n"}{end}',
    ]);
    const strategies = succeeded(listed, 'kubectl get crd').trim().split('\n');
    for (const kind of ['components', 'configurations', 'resiliencies', 'subscriptions']) {
      expect(strategies).toContain(`${kind}.dapr.io=None`);
    }
  });
});

describe('helm install', slow, () => {
  it('with the default values and every service: strictly valid, stored, the hooks run, the NOTES name every Secret to create', async () => {
    const namespace = await freshNamespace('defaults');
    const { rendered, secrets } = await validateAndInstall(namespace, allServices);
    expect(hookJobs(rendered.objects).length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(0);
  });

  it("with the kind values, after charts/shop/dev/infra.yaml: infra's Secrets and the Tiltfile's signing keys are all the chart reads", async () => {
    // As Tilt does it: the throw-away databases and their Secrets first, then the chart.
    const namespace = await freshNamespace('kind');
    const infra = readFileSync(join(devDir, 'infra.yaml'), 'utf8');
    succeeded(
      await cluster.kubectl(['apply', '--server-side', '--namespace', namespace, '-f', '-'], infra),
      'applying dev/infra.yaml',
    );
    const valueArgs = ['-f', join(devDir, 'values-kind.yaml'), ...allServices];
    const rendered = await render(namespace, valueArgs);
    expectAcceptedWithoutWarnings(await strictDryRun(namespace, rendered.yaml));
    // The Tiltfile makes the signing keys itself, with the platform's generator.
    const signingKeys = chartValues.jwt.secretName;
    const read = [...secretsReadButNotCreated(rendered.objects).keys()].filter(
      (name) => name !== signingKeys,
    );
    const stubs = read.map((name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name } }));
    // Soft: a Secret missing here is reported, and the install below still runs.
    expect
      .soft(await existing(namespace, stubs), 'Secrets in dev/infra.yaml')
      .toEqual(read.map((name) => `secret/${name}`).sort());
    const { output, hooksRun } = await helmWithHooks(namespace, [
      'install',
      release,
      chartDir,
      ...valueArgs,
    ]);
    expect(output).toMatch(/^STATUS: deployed$/m);
    expect(hooksRun).toEqual(hookJobs(rendered.objects));
  });

  // Each profile the schema offers besides the default, with the Secret references the
  // chart's dev values name for it (the shape an operator gives too), when the chart ships
  // the profile's component files; a profile without them is reported skipped by name.
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
  const profileChoices = [
    {
      section: 'broker',
      valuesPrefix: 'values-broker',
      componentsDir: (profile: string) => join(repoRoot, 'components', profile),
      defaultProfile: chartValues.broker.profile,
    },
    {
      section: 'stateStore',
      valuesPrefix: 'values-statestore',
      componentsDir: (profile: string) => join(repoRoot, 'components/statestore', profile),
      defaultProfile: chartValues.stateStore?.profile ?? 'redis',
    },
  ];
  for (const choice of profileChoices) {
    const offered: string[] = schema.properties?.[choice.section]?.properties?.profile?.enum ?? [];
    for (const profile of offered.filter((name) => name !== choice.defaultProfile)) {
      const dir = choice.componentsDir(profile);
      const shipped = existsSync(dir) && readdirSync(dir).some((file) => file.endsWith('.yaml'));
      const title = `with ${choice.section}.profile ${profile}${shipped ? '' : ` (skipped: no ${dir.slice(repoRoot.length + 1)}/ yet)`}`;
      it.skipIf(!shipped)(title, async () => {
        const namespace = await freshNamespace(`${choice.section.toLowerCase()}-${profile}`);
        const profileValues = join(devDir, `${choice.valuesPrefix}-${profile}.yaml`);
        const valueArgs = [
          '--set',
          `${choice.section}.profile=${profile}`,
          ...(existsSync(profileValues) ? ['-f', profileValues] : []),
          ...allServices,
        ];
        const { rendered } = await validateAndInstall(namespace, valueArgs);
        const components = rendered.objects.filter((obj) => obj.kind === 'Component');
        expect(components.length).toBeGreaterThan(0);
      });
    }
  }
});

describe('the strict server-side dry run', slow, () => {
  it('accepts every manifest in charts/shop/dev', async () => {
    const namespace = await freshNamespace('dev-manifests');
    const manifests = readdirSync(devDir).filter((file) => file.endsWith('.yaml'));
    const checked: string[] = [];
    for (const file of manifests) {
      const yaml = readFileSync(join(devDir, file), 'utf8');
      // Values files sit beside the manifests; only files of Kubernetes objects are applied.
      if (objectsIn(yaml).length === 0) continue;
      // Their throw-away databases run as the images' own users, outside the restricted
      // standard: warnings are expected here, errors are not.
      succeeded(await strictDryRun(namespace, yaml), `the strict dry run of dev/${file}`);
      checked.push(file);
    }
    expect(checked).toContain('infra.yaml');
  });

  it('rejects an unknown field in a Dapr Subscription, in a Deployment and in a hook Job', async () => {
    const namespace = await freshNamespace('broken');
    const subscription = {
      apiVersion: 'dapr.io/v2alpha1',
      kind: 'Subscription',
      metadata: { name: 'broken' },
      spec: { pubsubname: 'pubsub', topic: 'order.created', routes: { defualt: '/events' } },
      scopes: ['orders'],
    };
    const rejected = await strictDryRun(namespace, stringify(subscription));
    expect(rejected.status).not.toBe(0);
    expect(rejected.stderr).toMatch(/defualt/);
    expect(rejected.stderr).toMatch(/unknown field|not declared in schema/);

    // The same slip anywhere in the chart's output fails the whole check, hooks included.
    const { objects } = await render(namespace, allServices);
    for (const kind of ['Deployment', 'Job']) {
      const tampered = structuredClone(objects);
      const container = tampered.find((obj) => obj.kind === kind)?.spec.template.spec.containers[0];
      expect(container, `the chart renders a ${kind}`).toBeDefined();
      container.imagePullPolicyy = 'Always';
      const result = await strictDryRun(namespace, asYaml(tampered));
      expect(result.status, `a ${kind} with an unknown field`).not.toBe(0);
      expect(result.stderr).toMatch(/imagePullPolicyy/);
    }
  });

  it('is what a real helm install does too: a chart with the broken Subscription fails to install', async () => {
    const namespace = await freshNamespace('broken-install');
    const brokenChart = join(cluster.dir, 'broken-chart');
    // files/ links to components/; the copy takes the files themselves.
    cpSync(chartDir, brokenChart, { recursive: true, dereference: true });
    const broken = [
      'apiVersion: dapr.io/v2alpha1',
      'kind: Subscription',
      'metadata:',
      '  name: broken',
      'spec:',
      '  pubsubname: pubsub',
      '  topic: order.created',
      '  routes:',
      '    defualt: /events',
    ].join('\n');
    writeFileSync(join(brokenChart, 'templates/broken-subscription.yaml'), `${broken}\n`);
    const rendered = await render(namespace, allServices, brokenChart);
    await createSecretsFor(namespace, rendered.objects);
    const result = await helm([
      'install',
      release,
      brokenChart,
      '--namespace',
      namespace,
      '--no-hooks',
      '--timeout',
      '30s',
      ...allServices,
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/defualt/);
    expect(result.stderr).toMatch(/unknown field|not declared in schema/);
    const deployed = await helm(['list', '--namespace', namespace, '--deployed', '--short']);
    expect(succeeded(deployed, 'helm list').trim()).toBe('');
  });
});

describe('helm upgrade and uninstall', slow, () => {
  let namespace = '';
  let operatorSecrets: string[] = [];
  let current: { yaml: string; objects: K8sObject[] } = { yaml: '', objects: [] };

  const tokenOf = async (secret: string, key = 'token') =>
    succeeded(
      await cluster.kubectl([
        'get',
        'secret',
        secret,
        '--namespace',
        namespace,
        '-o',
        `jsonpath={.data.${key}}`,
      ]),
      `reading Secret ${secret}`,
    );

  it('upgrades from the chart before its last change to this one, then to changed values, keeping the generated tokens', async () => {
    namespace = await freshNamespace('upgrade');
    // The chart as it was before the last commit that changed it, with the components and
    // observability files it links to: what a cluster running the previous release has.
    const lastChange = execFileSync('git', ['log', '-n', '1', '--format=%H', '--', 'charts/shop'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    const previousDir = join(cluster.dir, 'previous');
    mkdirSync(previousDir);
    // Those of the linked folders that commit has: observability/ came after the chart.
    const linked = execFileSync(
      'git',
      ['ls-tree', '--name-only', `${lastChange}^`, 'components', 'observability'],
      { cwd: repoRoot, encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
    const archive = execFileSync('git', ['archive', `${lastChange}^`, 'charts/shop', ...linked], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', previousDir], { input: archive });
    const previousChart = join(previousDir, 'charts/shop');
    const { rendered: previous, secrets } = await validateAndInstall(namespace, allServices, {
      chart: previousChart,
      validate: false,
    });
    current = await render(namespace, allServices);
    expectAcceptedWithoutWarnings(await strictDryRun(namespace, current.yaml));
    operatorSecrets = [
      ...new Set([...secrets, ...(await createSecretsFor(namespace, current.objects))]),
    ];
    const upgraded = await helmWithHooks(namespace, ['upgrade', release, chartDir, ...allServices]);
    expect(upgraded.output).toMatch(/^STATUS: deployed$/m);
    expect(upgraded.hooksRun).toEqual(hookJobs(current.objects));
    // Each app's own pair of tokens, none shared with another app or direction.
    const tokenSecrets = ['gateway', 'users'].flatMap((app) => [
      `${app}-app-api-token`,
      `${app}-dapr-api-token`,
    ]);
    const tokens = await Promise.all(tokenSecrets.map((secret) => tokenOf(secret)));
    const redisPassword = await tokenOf('shop-redis', 'password');
    expect(redisPassword).not.toBe('');
    expect(new Set(tokens).size).toBe(tokens.length);
    const stored = current.objects.filter((obj) => !isHook(obj));
    expect(await existing(namespace, stored)).toHaveLength(stored.length);
    // What the previous chart made and this one no longer does is gone.
    const currentNames = new Set(stored.map((obj) => `${obj.kind}/${obj.metadata.name}`));
    const dropped = previous.objects.filter(
      (obj) => !isHook(obj) && !currentNames.has(`${obj.kind}/${obj.metadata.name}`),
    );
    expect(await existing(namespace, dropped)).toEqual([]);

    const changed = await helmWithHooks(namespace, [
      'upgrade',
      release,
      chartDir,
      ...allServices,
      '--set',
      'services.gateway.replicas=3',
      '--set',
      'logLevel=debug',
    ]);
    expect(changed.output).toMatch(/^REVISION: 3$/m);
    const replicas = await cluster.kubectl([
      'get',
      'deployment',
      'gateway',
      '--namespace',
      namespace,
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    expect(succeeded(replicas, 'kubectl get deployment')).toBe('3');
    // The chart reads the generated tokens back from the live Secrets (lookup), so running
    // sidecars and apps keep agreeing across upgrades.
    expect(await Promise.all(tokenSecrets.map((secret) => tokenOf(secret)))).toEqual(tokens);
    expect(await tokenOf('shop-redis', 'password')).toBe(redisPassword);
  });

  it('uninstalls, leaving nothing of the release and the Secrets the operator made', async () => {
    expect(namespace, 'the upgrade test ran first').not.toBe('');
    const { output } = await helmWithHooks(namespace, ['uninstall', release, '--wait']);
    expect(output).toMatch(/uninstalled/);
    const listed = await helm([
      'list',
      '--namespace',
      namespace,
      '--short',
      ...['--deployed', '--failed', '--pending', '--superseded', '--uninstalled', '--uninstalling'],
    ]);
    expect(succeeded(listed, 'helm list').trim()).toBe('');
    // Everything the chart renders, hooks and its own Secrets included.
    expect(await existing(namespace, current.objects)).toEqual([]);
    // Nothing labelled with the release, of any kind that can be listed, nor Helm's records.
    const kinds = succeeded(
      await cluster.kubectl(['api-resources', '--namespaced', '--verbs=list', '-o', 'name']),
      'kubectl api-resources',
    )
      .split('\n')
      .filter((kind) => kind && kind !== 'events' && kind !== 'events.events.k8s.io');
    for (const selector of [
      `app.kubernetes.io/instance=${release}`,
      `owner=helm,name=${release}`,
    ]) {
      const left = await cluster.kubectl([
        'get',
        kinds.join(','),
        '--namespace',
        namespace,
        '-l',
        selector,
        '-o',
        'name',
      ]);
      expect(succeeded(left, 'kubectl get').trim(), `objects labelled ${selector}`).toBe('');
    }
    const kept = operatorSecrets.map((name) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
    }));
    expect(await existing(namespace, kept)).toHaveLength(operatorSecrets.length);
  });
});

// The chart's secure defaults, rendered by the pinned helm and read back as objects: pods
// that run unprivileged with requests and limits and without Kubernetes API tokens, the
// NetworkPolicies (evaluated for who may reach whom), disruption budgets and autoscalers,
// the Dapr access-control lists (held equal to what the services' code invokes, and
// evaluated by Dapr's own access-control code built from the pinned module), the client
// address behind the Ingress, a schema that describes every value, and NOTES that say
// what must exist before the pods start.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findExecutables,
  runCommand,
  shopTopics,
  startTestCluster,
  type TestCluster,
} from '@shop/devkit/supervisor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { jwksPath } from '../../packages/platform/src/auth/jwks-via-dapr.ts';
import { openApiDocumentPath } from '../../packages/platform/src/http/openapi.ts';
import { upstreams } from '../../services/gateway/src/proxy/upstreams.ts';
import {
  chartDir,
  helm,
  type K8sObject,
  type Metadata,
  named,
  ofKind,
  prepareHelm,
  renderChart,
  renderChartError,
  repoRoot,
} from './support/chart.ts';

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
type Container = {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
  resources?: Resources;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    privileged?: boolean;
  };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  containers: Container[];
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  // biome-ignore lint/suspicious/noExplicitAny: volume sources differ
  volumes?: { name: string; [source: string]: any }[];
};
type Workload = {
  kind: string;
  metadata: Metadata;
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
};
type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};
type Peer = { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: unknown };
type PolicyRule = { ports?: { port: number; protocol?: string }[]; from?: Peer[]; to?: Peer[] };
/** callee -> caller -> `all` or "VERB /path" methods, as values.yaml's dapr.accessControl. */
type AccessControl = Record<string, Record<string, 'all' | string[]>>;
type Call = { caller: string; callee: string; verb: string; path: string; where: string };

const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
const accessControl = values.dapr.accessControl as AccessControl;
const allServices = Object.keys(values.services).sort();
const namespace = 'shop';
// Fixed tokens and Redis password, so two renderings of the same values are equal.
const tokens = [
  '--set',
  `apiTokens.seed=${'a'.repeat(20)}`,
  '--set',
  `redis.auth.password=${'r'.repeat(20)}`,
];
const daprInternalPort = 50002;
const daprMetricsPort = 9090;
/** METRICS_PORT of every service (metrics.port). */
const appMetricsPort = 9464;
/** A product id, standing in for the ones the code puts into a path. */
const sampleId = '0190c1de-7b1e-7000-8000-000000000001';
let daprAcl = '';

const render = (args: string[] = [], ns = namespace) =>
  renderChart([...tokens, ...args], { namespace: ns });
const renderError = (args: string[]) => renderChartError(args, { namespace });

/** The NOTES `helm install` prints, without a cluster. */
function notes(args: string[] = []): string {
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

const workloads = (objects: K8sObject[]) => [
  ...ofKind<Workload>(objects, 'Deployment'),
  ...ofKind<Workload>(objects, 'Job'),
];

/** Every service and the nats profile's Job: all the pods the chart can make. */
function everything(): K8sObject[] {
  return render([
    '--set',
    'broker.profile=nats',
    '--set',
    'broker.sidecarSecretEnv.NATS_URL.secret=shop-nats',
    '--set',
    'broker.sidecarSecretEnv.NATS_URL.key=url',
  ]);
}

// --- NetworkPolicy evaluation, for the parts of the API the chart uses -------------------

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const { key, operator, values: allowed = [] } of selector.matchExpressions ?? []) {
    const value = labels[key];
    if (operator === 'In' && (value === undefined || !allowed.includes(value))) return false;
    if (operator === 'NotIn' && value !== undefined && allowed.includes(value)) return false;
    if (operator === 'Exists' && value === undefined) return false;
    if (operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

type Source = {
  namespace: string;
  namespaceLabels: Record<string, string>;
  pod: Record<string, string>;
};

function peerAdmits(peer: Peer, source: Source): boolean {
  if (peer.ipBlock) return false; // no pod of the tests is addressed by IP
  if (peer.namespaceSelector === undefined) {
    // A pod selector alone means pods of the policy's own namespace.
    return source.namespace === namespace && selects(peer.podSelector, source.pod);
  }
  return (
    selects(peer.namespaceSelector, source.namespaceLabels) && selects(peer.podSelector, source.pod)
  );
}

/**
 * Whether the policies let `source` connect to a pod with `labels` on `port`, as
 * Kubernetes defines it: allowed when no policy selects the pod for Ingress, else when
 * any rule of any policy that selects it admits the source and the port.
 */
function ingressAllowed(
  policies: K8sObject[],
  labels: Record<string, string>,
  port: number,
  source: Source,
): boolean {
  const applying = policies.filter(
    (p) =>
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      selects(p.spec.podSelector, labels),
  );
  if (applying.length === 0) return true;
  return applying.some((p) =>
    ((p.spec.ingress ?? []) as PolicyRule[]).some(
      (rule) =>
        (!rule.ports || rule.ports.some((p) => p.port === port)) &&
        (!rule.from || rule.from.some((peer) => peerAdmits(peer, source))),
    ),
  );
}

const fromNamespace = (name: string, pod: Record<string, string> = {}): Source => ({
  namespace: name,
  namespaceLabels: { 'kubernetes.io/metadata.name': name },
  pod,
});
const appPod = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'shop',
  'app.kubernetes.io/part-of': 'shop',
});

// --- What the services' code invokes ------------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    const isSource = entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts');
    return isSource && entry.name !== 'test-support.ts' ? [path] : [];
  });
}

/** A string or template literal's text, `${...}` as the sample id; undefined for anything else. */
function literal(text: string): string | undefined {
  const match = /^(['"`])([\s\S]*)\1$/.exec(text.trim());
  return match?.[2]?.replace(/\$\{[^}]*\}/g, sampleId);
}

/**
 * Every Dapr service invocation in services/*\/src, read from the code: the token
 * verifier's JWKS fetch (every service but users builds one) and each `.invoke(appId,
 * path, { method })` call. The gateway's calls take their app id and path from requests
 * (a proxy, its GraphQL resolvers, the OpenAPI merge), so only the apps they reach are
 * collected, in `gatewayCallees`. A call of another service the test cannot read, or an
 * invocation by other means (a bare `invoke(`, Dapr's HTTP invoke URL), fails the test,
 * so a new one cannot slip past the access-control lists.
 */
function invocationsInCode(): { calls: Call[]; gatewayCallees: string[]; gatewayCalls: Call[] } {
  const platformConfig = readFileSync(join(repoRoot, 'packages/platform/src/config.ts'), 'utf8');
  const jwksApp = /JWKS_APP_ID: z\.string\(\)\.min\(1\)\.default\('([a-z-]+)'\)/.exec(
    platformConfig,
  )?.[1];
  expect(jwksApp, 'JWKS_APP_ID default in packages/platform/src/config.ts').toBeTruthy();
  const jwksSource = readFileSync(
    join(repoRoot, 'packages/platform/src/auth/jwks-via-dapr.ts'),
    'utf8',
  );
  expect(jwksSource).toMatch(/invoke\(appId, jwksPath, \{\s*method: 'GET'/);

  const calls: Call[] = [];
  const gatewayCallees = new Set<string>();
  const services = readdirSync(join(repoRoot, 'services')).filter((name) =>
    existsSync(join(repoRoot, 'services', name, 'package.json')),
  );
  for (const service of services) {
    for (const file of sourceFiles(join(repoRoot, 'services', service, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const where = file.slice(repoRoot.length + 1);
      const other = /(?<![.\w])invoke\(|\/v1\.0\/invoke\//.exec(text);
      if (other && service !== 'gateway') {
        throw new Error(`${where}: an invocation this test cannot read (${other[0]}); teach it`);
      }
      if (/\btokenVerifierViaDapr\(/.test(text)) {
        calls.push({
          caller: service,
          callee: jwksApp as string,
          verb: 'GET',
          path: jwksPath,
          where,
        });
      }
      for (const match of text.matchAll(/\.invoke\(\s*([^,]+?)\s*,\s*([^,]+?)\s*,\s*\{([^}]*)/g)) {
        const [, appArg = '', pathArg = '', options = ''] = match;
        let callee = literal(appArg);
        if (!callee && /^[A-Za-z_$][\w$]*$/.test(appArg)) {
          // An identifier with a literal default in the same file: `appId = 'catalog'`.
          callee = new RegExp(`\\b${appArg}\\s*=\\s*'([a-z-]+)'`).exec(text)?.[1];
        }
        const path = literal(pathArg)?.split('?')[0];
        const verb = /\bmethod:\s*'([A-Z]+)'/.exec(options)?.[1];
        if (service === 'gateway') {
          // Dynamic by design; what it reaches is collected below.
          if (callee) gatewayCallees.add(callee);
          continue;
        }
        if (!callee || !path || !verb) {
          throw new Error(
            `${where}: cannot read the invocation ${match[0].slice(0, 80)}... (app id, path and method); make it literal or teach this test`,
          );
        }
        calls.push({ caller: service, callee, verb, path, where });
      }
    }
  }
  // The gateway: every public route's app (also the OpenAPI documents' sources), and the
  // app of every GraphQL upstream call.
  for (const { appId } of upstreams) gatewayCallees.add(appId);
  for (const file of sourceFiles(join(repoRoot, 'services/gateway/src/graphql'))) {
    const text = readFileSync(file, 'utf8');
    for (const [, appId] of text.matchAll(/\bupstream(?:<[^>(]*>)?\(\s*'([a-z-]+)'/g))
      gatewayCallees.add(appId as string);
  }
  return { calls, gatewayCallees: [...gatewayCallees].sort(), gatewayCalls: gatewayCalls() };
}

/**
 * A template literal's text with each `${...}` (braces balanced) as the sample id, or as
 * nothing where it builds the query string (`${query({...})}`).
 */
function withoutPlaceholders(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || text[i + 1] !== '{') {
      out += text[i];
      continue;
    }
    let depth = 0;
    let j = i + 1;
    for (; j < text.length; j++) {
      if (text[j] === '{') depth++;
      if (text[j] === '}' && --depth === 0) break;
    }
    out += text.slice(i + 2, j).startsWith('query(') ? '' : sampleId;
    i = j;
  }
  return out;
}

/**
 * What the gateway invokes, as calls with the verb `*` where any may come: each public
 * route it forwards (and a path below it), each GraphQL upstream call whose path the code
 * spells out, and each service's OpenAPI document. Its access-control lists must admit
 * exactly these.
 */
function gatewayCalls(): Call[] {
  const where = 'services/gateway/src';
  const calls: Call[] = [];
  for (const { route, appId } of upstreams) {
    const path = route.replace('*', sampleId);
    for (const sub of [path, `${path}/${sampleId}`])
      calls.push({ caller: 'gateway', callee: appId, verb: '*', path: sub, where });
  }
  for (const file of sourceFiles(join(repoRoot, 'services/gateway/src/graphql'))) {
    const text = readFileSync(file, 'utf8');
    const upstreamCall =
      /\bupstream(?:<.*?>)?\(\s*'([a-z-]+)',\s*(`[^`]*`|'[^']*')(?:\s*,\s*\{[^}]*?method:\s*'([A-Z]+)')?/g;
    for (const [, callee = '', pathArg = '', verb = 'GET'] of text.matchAll(upstreamCall)) {
      const path = withoutPlaceholders(pathArg.slice(1, -1)).split('?')[0];
      if (path) calls.push({ caller: 'gateway', callee, verb, path, where: file });
    }
  }
  for (const callee of new Set(upstreams.map((u) => u.appId)))
    calls.push({ caller: 'gateway', callee, verb: 'GET', path: openApiDocumentPath, where });
  return calls;
}

// --- Dapr's own access-control code --------------------------------------------------------

/**
 * The decision code of the pinned Dapr (pkg/acl/acl.go of github.com/dapr/dapr, the
 * version tools/daprd/go.mod pins) behind a small main: it reads
 * [{ spec, calls: [{ trustDomain, namespace, appId, verb, path }] }] as JSON and prints
 * whether each call is allowed. acl.go is copied unchanged but for its package name, with
 * one exported function added that calls its unexported decision for a caller's SPIFFE
 * id (the part that a real mTLS handshake would supply). Built once, cached like the
 * other Go tools, keyed by the Dapr version and this source.
 */
const evaluatorMain = `package main

import (
	"encoding/json"
	"os"

	"shop.local/dapr-acl/dacl"
	"github.com/dapr/dapr/pkg/config"
	commonv1pb "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/dapr/dapr/pkg/security/spiffe"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

type call struct {
	TrustDomain string \`json:"trustDomain"\`
	Namespace   string \`json:"namespace"\`
	AppID       string \`json:"appId"\`
	Verb        string \`json:"verb"\`
	Path        string \`json:"path"\`
}

type batch struct {
	Spec  config.AccessControlSpec \`json:"spec"\`
	Calls []call                   \`json:"calls"\`
}

func main() {
	var batches []batch
	if err := json.NewDecoder(os.Stdin).Decode(&batches); err != nil {
		panic(err)
	}
	answers := [][]bool{}
	for _, b := range batches {
		list, err := dacl.ParseAccessControlSpec(&b.Spec, true)
		if err != nil {
			panic(err)
		}
		allowed := []bool{}
		for _, c := range b.Calls {
			id, err := spiffe.FromStrings(spiffeid.RequireTrustDomainFromString(c.TrustDomain), c.Namespace, c.AppID)
			if err != nil {
				panic(err)
			}
			verb := commonv1pb.HTTPExtension_Verb(commonv1pb.HTTPExtension_Verb_value[c.Verb])
			allowed = append(allowed, dacl.Decide(id, c.Path, verb, list))
		}
		answers = append(answers, allowed)
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		panic(err)
	}
}
`;
const evaluatorDecide = `
// Decide is the decision for an app's HTTP invocation, given the caller's SPIFFE id.
func Decide(id *spiffe.Parsed, operation string, verb commonv1pb.HTTPExtension_Verb, list *config.AccessControlList) bool {
	allowed, _ := isOperationAllowedByAccessControlPolicy(id, operation, verb, true, list)
	return allowed
}
`;

function buildDaprAclEvaluator(): string {
  const goMod = readFileSync(join(repoRoot, 'tools/daprd/go.mod'), 'utf8');
  const version = /^\s*github\.com\/dapr\/dapr v(\S+)/m.exec(goMod)?.[1];
  if (!version) throw new Error('tools/daprd/go.mod does not pin github.com/dapr/dapr');
  const key = createHash('sha256')
    .update(goMod + evaluatorMain + evaluatorDecide)
    .digest('hex')
    .slice(0, 12);
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const binary = join(cacheRoot, 'shop', 'dapr-acl', `${version}-${key}`, 'dapr-acl');
  if (existsSync(binary)) return binary;
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) {
    throw new Error(
      "checking the access-control lists with Dapr's own code needs Go (1.26+) to build it; install Go",
    );
  }
  console.error(`building Dapr ${version}'s access-control check; once, cached at ${binary}`);
  const dir = mkdtempSync(join(tmpdir(), 'shop-dapr-acl-'));
  try {
    // The daprd wrapper's requirements and replace lines, so it builds against the very
    // dependency versions daprd does.
    writeFileSync(join(dir, 'go.mod'), goMod.replace(/^module .*$/m, 'module shop.local/dapr-acl'));
    writeFileSync(join(dir, 'go.sum'), readFileSync(join(repoRoot, 'tools/daprd/go.sum')));
    const env = { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' };
    const listed = spawnSync(go, ['list', '-m', '-f', '{{.Dir}}', 'github.com/dapr/dapr'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    if (listed.status !== 0)
      throw new Error(`go list github.com/dapr/dapr failed:\n${listed.stderr}`);
    const acl = readFileSync(join(listed.stdout.trim(), 'pkg/acl/acl.go'), 'utf8');
    mkdirSync(join(dir, 'dacl'));
    writeFileSync(
      join(dir, 'dacl/acl.go'),
      acl.replace(/^package acl$/m, 'package dacl') + evaluatorDecide,
    );
    writeFileSync(join(dir, 'main.go'), evaluatorMain);
    mkdirSync(join(binary, '..'), { recursive: true });
    const partial = `${binary}.${process.pid}.partial`;
    const nice = findExecutables('nice')[0];
    const [command, prefix] = nice ? [nice, ['-n', '19', go]] : [go, []];
    const built = spawnSync(command, [...prefix, 'build', '-trimpath', '-o', partial, '.'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    if (built.status !== 0)
      throw new Error(`building the access-control check failed:\n${built.stderr}`);
    renameSync(partial, binary);
    return binary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type DaprCall = {
  trustDomain: string;
  namespace: string;
  appId: string;
  verb: string;
  path: string;
};

/** Dapr's decisions, per batch and call. */
function daprDecides(batches: { spec: unknown; calls: DaprCall[] }[]): boolean[][] {
  const result = spawnSync(daprAcl, [], {
    input: JSON.stringify(batches),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`the access-control check failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The access-control spec of each app's rendered Configuration, by app id. */
function aclSpecs(objects: K8sObject[]): Map<string, unknown> {
  const specs = new Map<string, unknown>();
  for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
    const config = deployment.spec.template.metadata.annotations?.['dapr.io/config'] as string;
    specs.set(
      deployment.metadata.name,
      named(ofKind(objects, 'Configuration'), config).spec.accessControl,
    );
  }
  return specs;
}

const call = (
  caller: string,
  verb: string,
  path: string,
  ns = namespace,
  td = 'public',
): DaprCall => ({
  trustDomain: td,
  namespace: ns,
  appId: caller,
  verb,
  path,
});

beforeAll(() => {
  prepareHelm();
  daprAcl = buildDaprAclEvaluator();
}, 15 * 60_000);

describe('every pod', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = everything();
  });

  it('runs non-root, on a read-only root, without privilege escalation or capabilities, under seccomp RuntimeDefault', () => {
    const pods = workloads(objects);
    // Seven Deployments, five migration Jobs and the nats profile's Job.
    expect(pods).toHaveLength(allServices.length + 5 + 1);
    for (const workload of pods) {
      const name = `${workload.kind}/${workload.metadata.name}`;
      const pod = workload.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(pod.securityContext?.runAsUser, name).toBeGreaterThan(0);
      // The pod-level profile covers the injected daprd as well.
      expect(pod.securityContext?.seccompProfile, name).toEqual({ type: 'RuntimeDefault' });
      for (const container of pod.containers) {
        const where = `${name} ${container.name}`;
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.capabilities, where).toEqual({ drop: ['ALL'] });
        expect(container.securityContext?.privileged, where).toBeUndefined();
        // A read-only root, so /tmp is the one writable place.
        expect(container.volumeMounts, where).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('asks for CPU and memory and is limited in both, hook Jobs and the Dapr sidecar included', () => {
    for (const workload of workloads(objects)) {
      for (const container of workload.spec.template.spec.containers) {
        const where = `${workload.kind}/${workload.metadata.name} ${container.name}`;
        expect(Object.keys(container.resources?.requests ?? {}).sort(), where).toEqual([
          'cpu',
          'memory',
        ]);
        expect(Object.keys(container.resources?.limits ?? {}).sort(), where).toEqual([
          'cpu',
          'memory',
        ]);
      }
    }
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      for (const annotation of ['cpu-request', 'cpu-limit', 'memory-request', 'memory-limit']) {
        expect(
          annotations[`dapr.io/sidecar-${annotation}`],
          `${deployment.metadata.name} ${annotation}`,
        ).toMatch(/^\d+(\.\d+)?(m|Mi|Gi)?$/);
      }
      expect(annotations['dapr.io/sidecar-seccomp-profile-type']).toBe('RuntimeDefault');
    }
  });

  it('mounts no Kubernetes API token, but into the sidecar of an app that reads the Dapr secret store', () => {
    for (const workload of workloads(objects)) {
      const name = `${workload.kind}/${workload.metadata.name}`;
      const pod = workload.spec.template.spec;
      expect(pod.automountServiceAccountToken, name).toBe(false);
      // The namespace's Services as variables would only add names to mistake for settings.
      expect(pod.enableServiceLinks, name).toBe(false);
      for (const container of pod.containers)
        for (const mount of container.volumeMounts ?? [])
          expect(mount.mountPath, name).not.toContain('serviceaccount');
    }
    for (const account of ofKind(objects, 'ServiceAccount'))
      expect(account.automountServiceAccountToken, account.metadata.name).toBe(false);

    const readers = allServices.filter((name) => values.services[name].secretStoreReads?.length);
    expect(readers).toEqual(['users']);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const volume = deployment.spec.template.spec.volumes?.find(
        (v) => v.name === 'kube-api-access',
      );
      // Without a token the built-in `kubernetes` secret store would fail and stop daprd.
      expect(annotations['dapr.io/disable-builtin-k8s-secret-store'], name).toBe('true');
      if (!readers.includes(name)) {
        expect(volume, name).toBeUndefined();
        expect(annotations['dapr.io/volume-mounts'], name).toBeUndefined();
        continue;
      }
      // daprd alone mounts it (the injector's dapr.io/volume-mounts), where client-go reads it.
      expect(annotations['dapr.io/volume-mounts']).toBe(
        'kube-api-access:/var/run/secrets/kubernetes.io/serviceaccount',
      );
      const sources = volume?.projected.sources as Record<string, unknown>[];
      expect(sources.map((source) => Object.keys(source)[0])).toEqual([
        'serviceAccountToken',
        'configMap',
        'downwardAPI',
      ]);
      expect(sources[0]).toEqual({
        serviceAccountToken: { path: 'token', expirationSeconds: 3607 },
      });
      expect(sources[1]).toEqual({
        configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
      });
    }
  });
});

describe('NetworkPolicies', () => {
  let objects: K8sObject[] = [];
  let policies: K8sObject[] = [];
  const monitoring = fromNamespace('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
  const elsewhere = fromNamespace('somewhere-else');
  beforeAll(() => {
    objects = everything();
    policies = ofKind(objects, 'NetworkPolicy');
  });

  it('deny ingress to every pod of the release, hook Jobs included, and leave other pods alone', () => {
    const deny = named(policies, 'shop-default-deny');
    expect(deny.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'shop' } },
      policyTypes: ['Ingress'],
      ingress: [],
    });
    for (const workload of workloads(objects)) {
      const labels = workload.spec.template.metadata.labels ?? {};
      expect(selects(deny.spec.podSelector, labels), workload.metadata.name).toBe(true);
    }
    for (const job of ofKind<Workload>(objects, 'Job')) {
      const labels = job.spec.template.metadata.labels ?? {};
      for (const port of [8080, 3101, daprInternalPort, daprMetricsPort])
        expect(
          ingressAllowed(policies, labels, port, fromNamespace(namespace, appPod('gateway'))),
        ).toBe(false);
    }
    // Tilt's throw-away Redis in the same namespace is no pod of the release.
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'redis' }, 6379, elsewhere)).toBe(
      true,
    );
    // One policy per service beside it, named after it.
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(
      ['shop-default-deny', ...allServices].sort(),
    );
  });

  it("let only the gateway take clients, and every app's sidecar only its callers'", () => {
    for (const callee of allServices) {
      const labels = appPod(callee);
      const port = values.services[callee].port as number;
      const exposed = Boolean(values.services[callee].expose);
      expect(exposed, callee).toBe(callee === 'gateway');
      // From outside the namespace: the gateway's app port, nothing else.
      expect(ingressAllowed(policies, labels, port, elsewhere), `${callee}:${port}`).toBe(exposed);
      expect(ingressAllowed(policies, labels, daprInternalPort, elsewhere), callee).toBe(false);
      // Dapr's APIs are for the app beside it only (they listen on loopback anyway).
      for (const local of [3500, 50001])
        expect(
          ingressAllowed(policies, labels, local, fromNamespace(namespace, appPod('gateway'))),
        ).toBe(false);
      for (const caller of allServices) {
        const source = fromNamespace(namespace, appPod(caller));
        const listed = Object.hasOwn(accessControl[callee] ?? {}, caller);
        expect(
          ingressAllowed(policies, labels, daprInternalPort, source),
          `${caller} -> ${callee}`,
        ).toBe(listed);
        // An app's own port is its sidecar's to call (over localhost), or the public's.
        if (!exposed)
          expect(
            ingressAllowed(policies, labels, port, source),
            `${caller} -> ${callee}:${port}`,
          ).toBe(false);
      }
      // The same app id in another namespace, or another release's pod, is not a caller.
      expect(
        ingressAllowed(
          policies,
          labels,
          daprInternalPort,
          fromNamespace('other', appPod('gateway')),
        ),
      ).toBe(false);
      const otherRelease = { ...appPod('gateway'), 'app.kubernetes.io/instance': 'other' };
      expect(
        ingressAllowed(policies, labels, daprInternalPort, fromNamespace(namespace, otherRelease)),
      ).toBe(false);
    }
    // The gateway takes no invocations at all.
    expect(accessControl.gateway).toEqual({});
  });

  it("let the monitoring namespace scrape the apps' metrics ports and their sidecars', and no one else", () => {
    for (const name of allServices) {
      const labels = appPod(name);
      const port = values.services[name].port as number;
      // The metrics port, never the app port (unless that is public: the gateway's).
      expect(ingressAllowed(policies, labels, appMetricsPort, monitoring), name).toBe(true);
      expect(ingressAllowed(policies, labels, appMetricsPort, elsewhere), name).toBe(false);
      expect(ingressAllowed(policies, labels, port, monitoring), name).toBe(name === 'gateway');
      expect(ingressAllowed(policies, labels, daprMetricsPort, monitoring), name).toBe(true);
      expect(ingressAllowed(policies, labels, daprMetricsPort, elsewhere), name).toBe(false);
      expect(ingressAllowed(policies, labels, daprInternalPort, monitoring), name).toBe(false);
    }
    const none = ofKind(render(['--set-json', 'networkPolicy.metricsFrom=[]']), 'NetworkPolicy');
    for (const name of allServices)
      expect(ingressAllowed(none, appPod(name), daprMetricsPort, monitoring), name).toBe(false);
  });

  it("admit only the ingress controller's namespace to the gateway behind the Ingress", () => {
    const behind = ofKind(
      render(['--set', 'ingress.enabled=true', '--set', 'ingress.controllerNamespace=traefik']),
      'NetworkPolicy',
    );
    const gateway = appPod('gateway');
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace('traefik'))).toBe(true);
    // No other pod, the release's own included, can hand it an X-Forwarded-For.
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace('ingress-nginx'))).toBe(false);
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace(namespace, appPod('users')))).toBe(
      false,
    );
    expect(ingressAllowed(behind, gateway, 8080, elsewhere)).toBe(false);
    // Without the Ingress, a NodePort or LoadBalancer needs it open to anyone.
    expect(ingressAllowed(policies, gateway, 8080, elsewhere)).toBe(true);
    expect(
      renderError([
        ...tokens,
        '--set',
        'ingress.enabled=true',
        '--set',
        'ingress.controllerNamespace=',
      ]),
    ).toContain('ingress.controllerNamespace is required with ingress.enabled');
  });

  it('narrow the gateway to the ingress controller when publicFrom says so', () => {
    const controller = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    };
    const narrowed = ofKind(
      render([
        '--set',
        'ingress.enabled=true',
        '--set-json',
        `networkPolicy.publicFrom=[${JSON.stringify(controller)}]`,
      ]),
      'NetworkPolicy',
    );
    expect(ingressAllowed(narrowed, appPod('gateway'), 8080, fromNamespace('ingress-nginx'))).toBe(
      true,
    );
    expect(ingressAllowed(narrowed, appPod('gateway'), 8080, elsewhere)).toBe(false);
  });

  it('leave egress open by default, and restrict it to DNS, Dapr, the callees and what is listed', () => {
    for (const policy of policies)
      expect(policy.spec.policyTypes, policy.metadata.name).toEqual(['Ingress']);
    const store = { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432 }] };
    const restricted = ofKind(
      render([
        '--set',
        'networkPolicy.egress.restrict=true',
        '--set-json',
        `networkPolicy.egress.to=[${JSON.stringify(store)}]`,
      ]),
      'NetworkPolicy',
    );
    const deny = named(restricted, 'shop-default-deny');
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.egress).toEqual([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dapr-system' } } },
        ],
      },
      store,
    ]);
    for (const caller of allServices) {
      const policy = named(restricted, caller);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const callees = allServices.filter((callee) =>
        Object.hasOwn(accessControl[callee] ?? {}, caller),
      );
      const rules = policy.spec.egress as PolicyRule[];
      if (callees.length === 0) {
        expect(rules, caller).toEqual([]);
        continue;
      }
      expect(rules, caller).toHaveLength(1);
      expect(rules[0]?.ports).toEqual([{ port: daprInternalPort, protocol: 'TCP' }]);
      for (const callee of allServices) {
        const reaches = rules[0]?.to?.some((peer) =>
          peerAdmits(peer, fromNamespace(namespace, appPod(callee))),
        );
        expect(reaches, `${caller} -> ${callee}`).toBe(callees.includes(callee));
      }
    }
  });

  it('are left out when networkPolicy.enabled is false', () => {
    expect(ofKind(render(['--set', 'networkPolicy.enabled=false']), 'NetworkPolicy')).toEqual([]);
  });
});

describe('disruption budgets and autoscalers', () => {
  it('give every service a PodDisruptionBudget of maxUnavailable 1 that never blocks a drain', () => {
    for (const replicas of [1, 3]) {
      const objects = render(['--set', `defaults.replicas=${replicas}`]);
      const budgets = ofKind(objects, 'PodDisruptionBudget');
      expect(budgets.map((b) => b.metadata.name).sort()).toEqual(allServices);
      for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
        const budget = named(budgets, deployment.metadata.name);
        expect(deployment.spec.replicas).toBe(replicas);
        expect(budget.apiVersion).toBe('policy/v1');
        expect(budget.spec).toEqual({
          maxUnavailable: 1,
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
          selector: deployment.spec.selector,
        });
        expect(selects(budget.spec.selector, deployment.spec.template.metadata.labels ?? {})).toBe(
          true,
        );
      }
    }
    expect(
      ofKind(render(['--set', 'podDisruptionBudget.enabled=false']), 'PodDisruptionBudget'),
    ).toEqual([]);
  });

  it('scale nothing by default, and hand the replica count to an autoscaler where one is on', () => {
    const plain = render();
    expect(ofKind(plain, 'HorizontalPodAutoscaler')).toEqual([]);
    for (const deployment of ofKind<Workload>(plain, 'Deployment'))
      expect(deployment.spec.replicas, deployment.metadata.name).toBe(1);

    // On for every service but users, whose own false must beat the default's true.
    const objects = render([
      '--set',
      'defaults.autoscaling.enabled=true',
      '--set',
      'services.users.autoscaling.enabled=false',
      '--set',
      'services.orders.autoscaling.maxReplicas=8',
    ]);
    const autoscalers = ofKind(objects, 'HorizontalPodAutoscaler');
    expect(autoscalers.map((a) => a.metadata.name).sort()).toEqual(
      allServices.filter((n) => n !== 'users'),
    );
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      if (name === 'users') {
        expect(deployment.spec.replicas).toBe(1);
        continue;
      }
      // An upgrade must not reset what the autoscaler chose.
      expect(deployment.spec).not.toHaveProperty('replicas');
      const autoscaler = named(autoscalers, name);
      expect(autoscaler.apiVersion).toBe('autoscaling/v2');
      expect(autoscaler.spec).toEqual({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 2,
        maxReplicas: name === 'orders' ? 8 : 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } },
          },
        ],
      });
    }
  });

  it('refuse an autoscaler without CPU requests to measure against, or with max below min', () => {
    expect(
      renderError([
        ...tokens,
        '--set',
        'services.orders.autoscaling.enabled=true',
        '--set',
        'dapr.sidecar.cpuRequest=',
      ]),
    ).toContain('services.orders.autoscaling.enabled needs CPU requests on both containers');
    expect(
      renderError([
        ...tokens,
        '--set',
        'services.orders.autoscaling.enabled=true',
        '--set',
        'services.orders.autoscaling.maxReplicas=1',
      ]),
    ).toContain('services.orders.autoscaling: maxReplicas (1) is below minReplicas (2)');
  });
});

describe('Dapr access control', () => {
  let objects: K8sObject[] = [];
  let code: ReturnType<typeof invocationsInCode> = {
    calls: [],
    gatewayCallees: [],
    gatewayCalls: [],
  };
  beforeAll(() => {
    objects = render();
    code = invocationsInCode();
  });

  it('defaults to exactly what the code invokes: who calls whom, and which methods', () => {
    // The code reads as expected at all (a regex that matched nothing would prove nothing).
    expect(code.calls.length).toBeGreaterThanOrEqual(7);
    expect(code.gatewayCallees).toEqual(allServices.filter((name) => name !== 'gateway'));

    const inCode = new Set([
      ...code.gatewayCallees.map((callee) => `gateway -> ${callee}`),
      ...code.calls.map((c) => `${c.caller} -> ${c.callee}`),
    ]);
    const inValues = Object.entries(accessControl).flatMap(([callee, callers]) =>
      Object.keys(callers).map((caller) => `${caller} -> ${callee}`),
    );
    expect(inValues.sort()).toEqual([...inCode].sort());
    expect(Object.keys(accessControl).sort()).toEqual(allServices);

    // No app may call every method of another, not even the gateway.
    for (const [callee, callers] of Object.entries(accessControl))
      for (const [caller, allowed] of Object.entries(callers))
        expect(allowed, `${caller} -> ${callee}`).not.toBe('all');

    // The methods: Dapr allows every call the code makes, and each listed method is one
    // that some call of the code needs (one at a time, as its caller's only method).
    const specs = aclSpecs(objects);
    const decisions = daprDecides(
      code.calls.map((c) => ({
        spec: specs.get(c.callee),
        calls: [call(c.caller, c.verb, c.path)],
      })),
    );
    for (const [i, c] of code.calls.entries()) {
      const why = `${c.caller} -> ${c.callee} ${c.verb} ${c.path} (${c.where})`;
      expect(decisions[i], why).toEqual([true]);
    }
    for (const [callee, callers] of Object.entries(accessControl)) {
      for (const [caller, methods] of Object.entries(callers)) {
        // The gateway's lists are checked against what it forwards below.
        if (methods === 'all' || caller === 'gateway') continue;
        for (const method of methods) {
          const [verb = '', name = ''] = method.split(' ');
          const only = {
            defaultAction: 'deny',
            trustDomain: 'public',
            policies: [
              {
                appId: caller,
                trustDomain: 'public',
                namespace,
                defaultAction: 'deny',
                operations: [{ name, httpVerb: [verb], action: 'allow' }],
              },
            ],
          };
          const needed = code.calls.filter((c) => c.caller === caller && c.callee === callee);
          const [answers = []] = daprDecides([
            { spec: only, calls: needed.map((c) => call(c.caller, c.verb, c.path)) },
          ]);
          expect(
            answers.some(Boolean),
            `${caller} -> ${callee}: ${method} is used by no call`,
          ).toBe(true);
          // And it is as narrow as Dapr can say it: the very path, or a wildcard only where
          // the code puts an id, right after the pattern's fixed part.
          const used = needed.filter((_, i) => answers[i]);
          const wildcard = /\/\*\*?$/.exec(name);
          if (!wildcard) {
            expect(
              used.some((c) => c.path === name),
              `${caller} -> ${callee}: ${method} is wider than the call`,
            ).toBe(true);
            continue;
          }
          const fixed = name.slice(0, wildcard.index);
          expect(
            used.some((c) => c.path.startsWith(`${fixed}/${sampleId}`)),
            `${caller} -> ${callee}: ${method} has a wildcard where the code has no id`,
          ).toBe(true);
        }
      }
    }
  });

  it("gives each app a Configuration of its own, with mTLS, deny by default and a policy per caller in the release's namespace", () => {
    const objectsElsewhere = render([], 'shop-staging');
    for (const [ns, rendered] of [
      [namespace, objects],
      ['shop-staging', objectsElsewhere],
    ] as const) {
      const configurations = ofKind(rendered, 'Configuration');
      expect(configurations.map((c) => c.metadata.name).sort()).toEqual(
        allServices.map((n) => `shop-${n}`),
      );
      for (const deployment of ofKind<Workload>(rendered, 'Deployment')) {
        const name = deployment.metadata.name;
        expect(deployment.spec.template.metadata.annotations?.['dapr.io/config']).toBe(
          `shop-${name}`,
        );
        const spec = named(configurations, `shop-${name}`).spec;
        expect(spec.mtls).toEqual({
          enabled: true,
          controlPlaneTrustDomain: 'cluster.local',
          sentryAddress: 'dapr-sentry.dapr-system.svc:443',
        });
        const callers = accessControl[name] ?? {};
        const policies = Object.keys(callers)
          .sort()
          .map((caller) => {
            const allowed = callers[caller] as 'all' | string[];
            const policy = { appId: caller, trustDomain: 'public', namespace: ns };
            if (allowed === 'all') return { ...policy, defaultAction: 'allow' };
            return {
              ...policy,
              defaultAction: 'deny',
              operations: allowed.map((method) => {
                const [verb, path] = method.split(' ');
                return { name: path, httpVerb: [verb], action: 'allow' };
              }),
            };
          });
        expect(spec.accessControl, name).toEqual({
          defaultAction: 'deny',
          trustDomain: 'public',
          ...(policies.length > 0 ? { policies } : {}),
        });
        // The secret store answers an app for its own secretStoreReads only.
        expect(spec.secrets.scopes, name).toEqual([
          { storeName: 'kubernetes', defaultAccess: 'deny' },
          {
            storeName: 'secretstore',
            defaultAccess: 'deny',
            ...(name === 'users' ? { allowedSecrets: ['jwt-signing-keys'] } : {}),
          },
        ]);
      }
    }
  });

  it("is enforced as meant by Dapr's own code: listed calls in, everything else out", () => {
    const specs = aclSpecs(objects);
    const publicCalls = upstreams.map(({ route, appId }) => ({
      callee: appId,
      path: route.replace('*', sampleId),
    }));
    for (const callee of allServices) {
      const callers = accessControl[callee] ?? {};
      const probes: { call: DaprCall; expected: boolean; why: string }[] = [];
      const paths = [
        ...publicCalls.filter((c) => c.callee === callee).map((c) => c.path),
        ...code.calls.filter((c) => c.callee === callee).map((c) => c.path),
        '/openapi.json',
        '/admin/dead-letters',
      ];
      // The gateway's own lists: the next test.
      for (const caller of allServices.filter((name) => name !== 'gateway')) {
        const allowed = callers[caller];
        const ownCalls = code.calls.filter((c) => c.caller === caller && c.callee === callee);
        for (const path of paths) {
          for (const verb of ['GET', 'POST', 'DELETE']) {
            let expected = allowed === 'all';
            if (Array.isArray(allowed)) {
              const needed = ownCalls.some((c) => c.verb === verb && c.path === path);
              // A `/**` method (notifications' GET /internal/products/**) admits more than
              // the one path the code calls, by design; a path the caller needs with another
              // verb, or any path outside /internal/, it must not.
              const otherVerb = ownCalls.some((c) => c.path === path);
              if (!needed && !otherVerb && path.startsWith('/internal/')) continue;
              expected = needed;
            }
            probes.push({
              call: call(caller, verb, path),
              expected,
              why: `${caller} -> ${callee} ${verb} ${path}`,
            });
            if (expected) {
              // The same app id from another namespace or trust domain is someone else.
              probes.push({
                call: call(caller, verb, path, 'other'),
                expected: false,
                why: `other/${caller}`,
              });
              probes.push({
                call: call(caller, verb, path, namespace, 'evil'),
                expected: false,
                why: `evil trust domain ${caller}`,
              });
            }
          }
        }
      }
      const [answers = []] = daprDecides([
        { spec: specs.get(callee), calls: probes.map((p) => p.call) },
      ]);
      for (const [i, probe] of probes.entries()) expect(answers[i], probe.why).toBe(probe.expected);
    }
    // The users service trusts X-Forwarded-For on login because only the gateway calls it.
    // (See also the gateway's own test below.)
    const [login = []] = daprDecides([
      {
        spec: specs.get('users'),
        calls: ['catalog', 'orders', 'notifications'].map((c) =>
          call(c, 'POST', '/api/v1/auth/login'),
        ),
      },
    ]);
    expect(login).toEqual([false, false, false]);
  });

  it("admit the gateway only on the paths it forwards, never a service's internal routes", () => {
    const specs = aclSpecs(objects);
    const verbs = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const probes: { callee: string; call: DaprCall; expected: boolean; why: string }[] = [];
    const probe = (callee: string, verb: string, path: string, expected: boolean) => {
      probes.push({
        callee,
        call: call('gateway', verb, path),
        expected,
        why: `${verb} ${callee}${path}`,
      });
      if (expected) {
        // The same app id from another namespace or trust domain is someone else.
        for (const other of [
          call('gateway', verb, path, 'other'),
          call('gateway', verb, path, namespace, 'evil'),
        ])
          probes.push({
            callee,
            call: other,
            expected: false,
            why: `elsewhere: ${verb} ${callee}${path}`,
          });
      }
    };
    // The code reads as expected: every route, a GraphQL call with a POST, the documents.
    expect(code.gatewayCalls.length).toBeGreaterThan(upstreams.length * 2);
    expect(code.gatewayCalls).toContainEqual(
      expect.objectContaining({
        callee: 'catalog',
        verb: 'POST',
        path: '/internal/products/batch',
      }),
    );
    for (const c of code.gatewayCalls)
      for (const verb of c.verb === '*' ? verbs : [c.verb]) probe(c.callee, verb, c.path, true);
    const internal = [
      '/admin/dead-letters',
      `/admin/dead-letters/${sampleId}/replay`,
      '/events/order.created',
      '/dead-letters',
      '/dapr/subscribe',
      '/dapr/config',
      '/internal/ready',
      `/internal/products/${sampleId}/wishlisters`,
      '/healthz',
      '/metrics',
      '/api/v2/anything',
    ];
    for (const callee of allServices.filter((name) => name !== 'gateway'))
      for (const path of internal)
        for (const verb of ['GET', 'POST']) probe(callee, verb, path, false);
    // Each listed method is needed by some call: nothing wider than what is forwarded.
    for (const [callee, callers] of Object.entries(accessControl)) {
      const methods = callers.gateway;
      if (!Array.isArray(methods)) continue;
      const needed = code.gatewayCalls.filter((c) => c.callee === callee);
      const answers = daprDecides(
        methods.map((method) => {
          const [verb = '', name = ''] = method.split(' ');
          const only = {
            defaultAction: 'deny',
            trustDomain: 'public',
            policies: [
              {
                appId: 'gateway',
                trustDomain: 'public',
                namespace,
                defaultAction: 'deny',
                operations: [{ name, httpVerb: [verb], action: 'allow' }],
              },
            ],
          };
          return {
            spec: only,
            calls: needed.map((c) => call('gateway', c.verb === '*' ? 'GET' : c.verb, c.path)),
          };
        }),
      );
      for (const [i, method] of methods.entries())
        expect(
          answers[i]?.some(Boolean),
          `gateway -> ${callee}: ${method} is used by no call`,
        ).toBe(true);
    }
    const callees = [...new Set(probes.map((p) => p.callee))];
    const decided = daprDecides(
      callees.map((callee) => ({
        spec: specs.get(callee),
        calls: probes.filter((p) => p.callee === callee).map((p) => p.call),
      })),
    );
    for (const [i, callee] of callees.entries()) {
      const own = probes.filter((p) => p.callee === callee);
      for (const [j, p] of own.entries()) expect(decided[i]?.[j], p.why).toBe(p.expected);
    }
  });

  it('refuses an app id it does not know and a method it cannot read', () => {
    expect(renderError([...tokens, '--set', 'dapr.accessControl.users.cataloge=all'])).toContain(
      'dapr.accessControl.users.cataloge: no service "cataloge" in services',
    );
    expect(renderError([...tokens, '--set', 'dapr.accessControl.userz.gateway=all'])).toContain(
      'dapr.accessControl.userz: no service "userz" in services',
    );
    // The schema first, then the template for a render that skips it.
    for (const bad of [
      'dapr.accessControl.users.catalog=everything',
      'dapr.accessControl.users.catalog[0]=GET jwks',
    ]) {
      expect(renderError([...tokens, '--set', bad]), bad).toContain(
        "at '/dapr/accessControl/users/catalog'",
      );
      expect(renderError([...tokens, '--skip-schema-validation', '--set', bad]), bad).toContain(
        'dapr.accessControl.users.catalog',
      );
    }
  });
});

describe('the Ingress', () => {
  const hopsOf = (objects: K8sObject[]) =>
    named(
      ofKind<Workload>(objects, 'Deployment'),
      'gateway',
    ).spec.template.spec.containers[0]?.env?.filter((env) => env.name === 'TRUSTED_PROXY_HOPS');

  it("hands the gateway the client's address: TRUSTED_PROXY_HOPS from ingress.trustedProxyHops", () => {
    expect(hopsOf(render())).toEqual([]);
    expect(hopsOf(render(['--set', 'ingress.enabled=true']))).toEqual([
      { name: 'TRUSTED_PROXY_HOPS', value: '1' },
    ]);
    expect(
      hopsOf(render(['--set', 'ingress.enabled=true', '--set', 'ingress.trustedProxyHops=2'])),
    ).toEqual([{ name: 'TRUSTED_PROXY_HOPS', value: '2' }]);
    // Only the gateway is behind the Ingress.
    for (const deployment of ofKind<Workload>(
      render(['--set', 'ingress.enabled=true']),
      'Deployment',
    )) {
      if (deployment.metadata.name === 'gateway') continue;
      const names = deployment.spec.template.spec.containers[0]?.env?.map((env) => env.name);
      expect(names, deployment.metadata.name).not.toContain('TRUSTED_PROXY_HOPS');
    }
    // A proxy of your own without the Ingress: the gateway's env says so.
    expect(hopsOf(render(['--set', 'services.gateway.env.TRUSTED_PROXY_HOPS=1']))).toEqual([
      { name: 'TRUSTED_PROXY_HOPS', value: '1' },
    ]);
  });

  it('takes the hop count once, within what the gateway accepts', () => {
    expect(
      renderError([
        ...tokens,
        '--set',
        'ingress.enabled=true',
        '--set',
        'services.gateway.env.TRUSTED_PROXY_HOPS=3',
      ]),
    ).toContain(
      'services.gateway.env.TRUSTED_PROXY_HOPS (3) and ingress.trustedProxyHops (1) differ',
    );
    const config = readFileSync(join(repoRoot, 'services/gateway/src/config.ts'), 'utf8');
    const [, min, max] =
      /TRUSTED_PROXY_HOPS: z\.coerce\.number\(\)\.int\(\)\.min\((\d+)\)\.max\((\d+)\)/.exec(
        config,
      ) ?? [];
    const hops = schema.properties.ingress.properties.trustedProxyHops;
    expect([hops.minimum, hops.maximum]).toEqual([Number(min), Number(max)]);
    expect(renderError(['--set', `ingress.trustedProxyHops=${Number(max) + 1}`])).toContain(
      "at '/ingress/trustedProxyHops'",
    );
  });
});

describe('values.schema.json', () => {
  // biome-ignore lint/suspicious/noExplicitAny: JSON Schema nodes
  type Schema = Record<string, any>;
  const resolve = (node: Schema): Schema =>
    node.$ref ? resolve(schema.definitions[String(node.$ref).replace('#/definitions/', '')]) : node;

  /** The schemas that describe `key` of an object described by `node` (any branch of allOf/anyOf/oneOf). */
  function childSchemas(node: Schema, key: string | number): Schema[] {
    const at = resolve(node);
    const branches = [...(at.allOf ?? []), ...(at.anyOf ?? []), ...(at.oneOf ?? [])].flatMap(
      (b: Schema) => childSchemas(b, key),
    );
    if (typeof key === 'number') return at.items ? [at.items, ...branches] : branches;
    if (at.properties?.[key]) return [at.properties[key], ...branches];
    if (typeof at.additionalProperties === 'object') {
      const names = at.propertyNames ? resolve(at.propertyNames) : undefined;
      if (!names?.pattern || new RegExp(names.pattern).test(key))
        return [at.additionalProperties, ...branches];
    }
    return branches;
  }

  it('describes every value of values.yaml', () => {
    const undescribed: string[] = [];
    let checked = 0;
    const walk = (value: unknown, node: Schema, path: string) => {
      checked++;
      if (Array.isArray(value))
        for (const [i, item] of value.entries()) child(item, node, i, `${path}[${i}]`);
      else if (value && typeof value === 'object')
        for (const [key, item] of Object.entries(value)) child(item, node, key, `${path}.${key}`);
    };
    const child = (value: unknown, node: Schema, key: string | number, path: string) => {
      const [child] = childSchemas(node, key);
      if (!child) undescribed.push(path);
      else walk(value, child, path);
    };
    walk(values, schema, '');
    expect(undescribed).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  it('leaves no object open to keys it does not describe', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const schemaNode = node as Schema;
      if (schemaNode.type === 'object' && schemaNode.additionalProperties === undefined)
        open.push(path);
      for (const [key, child] of Object.entries(schemaNode)) visit(child, `${path}/${key}`);
    };
    visit(schema, '#');
    expect(open).toEqual([]);
  });

  it.each([
    ['networkPolcy.enabled=false', 'networkPolcy'],
    ['networkPolicy.enabeld=false', 'enabeld'],
    ['networkPolicy.egress.restirct=true', 'restirct'],
    ['podDisruptionBudget.maxUnavailabe=1', 'maxUnavailabe'],
    ['defaults.autoscaling.maxReplica=3', 'maxReplica'],
    ['services.users.autoscaling.enable=true', 'enable'],
    ['defaults.resources.limits.cpus=2', 'cpus'],
    ['dapr.acessControl.users.gateway=all', 'acessControl'],
    ['dapr.sidecar.cpuLimt=1', 'cpuLimt'],
    ['dapr.tracing.otlp.endpont=collector:4317', 'endpont'],
    ['ingress.trustedProxyHop=2', 'trustedProxyHop'],
    ['podSecurityContext.runAsUsr=1000', 'runAsUsr'],
    ['containerSecurityContext.readOnlyRootFS=false', 'readOnlyRootFS'],
    ['image.pullPolcy=Always', 'pullPolcy'],
    ['apiTokens.creat=false', 'creat'],
    ['jwt.secretname=keys', 'secretname'],
    ['secretStore.nmae=store', 'nmae'],
    ['migrations.enable=false', 'enable'],
    ['broker.nats.streams.replica=3', 'replica'],
  ])('refuses the typo %s in helm template and helm lint', (setting, key) => {
    const message = `additional properties '${key}' not allowed`;
    expect(renderError([...tokens, '--set', setting])).toContain(message);
    const lint = helm(['lint', '--strict', chartDir, ...tokens, '--set', setting]);
    expect(lint.status).not.toBe(0);
    expect(lint.stdout + lint.stderr).toContain(message);
  });

  it.each([
    ['networkPolicy.enabled=maybe', '/networkPolicy/enabled'],
    ['podDisruptionBudget.maxUnavailable=0', '/podDisruptionBudget/maxUnavailable'],
    ['services.users.port=50002', '/services/users/port'],
    [
      'defaults.autoscaling.targetCPUUtilizationPercentage=150',
      '/defaults/autoscaling/targetCPUUtilizationPercentage',
    ],
    ['defaults.resources.requests.memory=lots', '/defaults/resources'],
    ['podSecurityContext.seccompProfile.type=Off', '/podSecurityContext/seccompProfile/type'],
    ['dapr.trustDomain=Not A Domain', '/dapr/trustDomain'],
  ])('refuses the wrong value %s', (setting, path) => {
    expect(renderError([...tokens, '--set', setting])).toContain(`at '${path}`);
  });
});

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

// test/deploy/cluster.test.ts installs the default values and each profile into a real API
// server; the objects only other values make are checked here the same way.
describe('the optional objects, in a real Kubernetes API server', () => {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startTestCluster({ repoRoot });
  }, 15 * 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The strict server-side dry run of what the values render, hooks included. */
  async function strictDryRun(ns: string, args: string[]) {
    if (!cluster) throw new Error('no cluster');
    // Never spawnSync while the cluster runs: the event loop drains its output pipes.
    const rendered = await runCommand(prepareHelm(), [
      'template',
      'shop',
      chartDir,
      '--namespace',
      ns,
      ...tokens,
      ...args,
    ]);
    expect(rendered.status, rendered.stderr).toBe(0);
    await cluster.kubectl(['create', 'namespace', ns]);
    return cluster.kubectl(
      [
        'apply',
        '--server-side',
        '--dry-run=server',
        '--validate=strict',
        '--namespace',
        ns,
        '-f',
        '-',
      ],
      rendered.stdout,
    );
  }

  it('accepts autoscalers, restricted egress, a narrowed gateway and the Ingress, strictly and without warnings', async () => {
    const result = await strictDryRun('hardening', [
      '--set',
      'defaults.autoscaling.enabled=true',
      '--set',
      'services.users.autoscaling.enabled=false',
      '--set',
      'podDisruptionBudget.maxUnavailable=25%',
      '--set',
      'ingress.enabled=true',
      '--set',
      'networkPolicy.egress.restrict=true',
      '--set-json',
      'networkPolicy.egress.to=[{"to":[{"ipBlock":{"cidr":"10.20.0.0/16","except":["10.20.1.0/24"]}}],"ports":[{"port":5432,"protocol":"TCP"},{"port":30000,"endPort":30100}]}]',
      '--set-json',
      'networkPolicy.publicFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}},"podSelector":{"matchExpressions":[{"key":"app","operator":"Exists"}]}}]',
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr, 'the API server warned').not.toMatch(/warning/i);
    for (const name of allServices.filter((n) => n !== 'users'))
      expect(result.stdout).toContain(
        `horizontalpodautoscaler.autoscaling/${name} serverside-applied`,
      );
    for (const name of ['shop-default-deny', ...allServices]) {
      expect(result.stdout).toContain(`networkpolicy.networking.k8s.io/${name} serverside-applied`);
      if (name !== 'shop-default-deny')
        expect(result.stdout).toContain(`poddisruptionbudget.policy/${name} serverside-applied`);
    }
    expect(result.stdout).toContain('configuration.dapr.io/shop-users serverside-applied');
  });

  it('rejects what it should, so that the check above cannot pass silently', async () => {
    const result = await strictDryRun('hardening-broken', [
      '--set',
      'networkPolicy.egress.restrict=true',
      '--set-json',
      'networkPolicy.egress.to=[{"to":[{"ipBlock":{"cidr":"not-a-cidr"}}]}]',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('not-a-cidr');
  });
});

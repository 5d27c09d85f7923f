// Observability in the chart: the Grafana dashboards as ConfigMaps for Grafana's sidecar,
// the prometheus-operator's PodMonitors and PrometheusRule, and the collector that daprd
// and the services send their traces to. Rendered with the pinned helm, then installed
// into the throw-away API server with the prometheus-operator's CRDs from its Go module,
// where every field is validated strictly.
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '@shop/devkit/cluster';
import { type CommandResult, runCommand } from '@shop/devkit/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import {
  chartDir,
  helm,
  type K8sObject,
  named,
  ofKind,
  prepareHelm,
  renderChart,
  repoRoot,
} from './support/chart.ts';
import { notes, render, renderError, tokens } from './support/hardening.ts';
import {
  goModuleDir,
  installPrometheusOperatorCrds,
  prometheusOperatorCrds,
} from './support/prometheus-operator.ts';
import type { Container, Workload } from './support/workloads.ts';

const dashboardsDir = join(repoRoot, 'observability/dashboards');
const rulesDir = join(repoRoot, 'observability/prometheus/rules');
const dashboardFiles = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const ruleFiles = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const monitoring = [
  '--set',
  'metrics.podMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
];

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

const isMonitoring = (obj: K8sObject) => obj.apiVersion.startsWith('monitoring.coreos.com/');
const appContainer = (deployment: Workload) =>
  deployment.spec.template.spec.containers[0] as Container;
const envOf = (deployment: Workload) =>
  Object.fromEntries((appContainer(deployment).env ?? []).map((e) => [e.name, e.value]));
const otelEnv = (deployment: Workload) =>
  Object.fromEntries(
    Object.entries(envOf(deployment)).filter(([name]) => name.startsWith('OTEL_')),
  );

/** The port name Dapr's injector gives daprd's metrics port, read from the pinned dapr module. */
function daprMetricsPortName(): string {
  const daprDir = goModuleDir('github.com/dapr/dapr', join(repoRoot, 'tools/daprd'));
  const consts = readFileSync(join(daprDir, 'pkg/injector/consts/consts.go'), 'utf8');
  const name = /SidecarMetricsPortName\s*=\s*"([^"]+)"/.exec(consts)?.[1];
  if (!name) throw new Error('no SidecarMetricsPortName in the dapr module');
  return name;
}

describe('the chart links to observability/, so its copies cannot drift', () => {
  it('holds observability/dashboards and observability/prometheus/rules as links to them', () => {
    expect(realpathSync(join(chartDir, 'observability/dashboards'))).toBe(
      realpathSync(dashboardsDir),
    );
    expect(realpathSync(join(chartDir, 'observability/rules'))).toBe(realpathSync(rulesDir));
    expect(dashboardFiles.length).toBeGreaterThanOrEqual(3);
    expect(ruleFiles.length).toBeGreaterThanOrEqual(2);
  });
});

describe('the Grafana dashboards', () => {
  it('are ConfigMaps by default, one per file, labelled for the sidecar, the JSON byte for byte', () => {
    const configMaps = ofKind(render(), 'ConfigMap').filter(
      (cm) => cm.metadata.labels?.grafana_dashboard === '1',
    );
    expect(configMaps.map((cm) => Object.keys(cm.data)[0]).sort()).toEqual(dashboardFiles);
    for (const file of dashboardFiles) {
      const configMap = named(configMaps, `shop-dashboard-${file.replace(/\.json$/, '')}`);
      expect(Object.keys(configMap.data)).toEqual([file]);
      expect(configMap.data[file]).toBe(readFileSync(join(dashboardsDir, file), 'utf8'));
      expect(JSON.parse(configMap.data[file]).uid, file).toMatch(/^shop-/);
      expect(configMap.metadata.labels?.['app.kubernetes.io/instance']).toBe('shop');
    }
  });

  it('take the label and annotations the values give, and are left out when disabled', () => {
    const objects = render([
      ...['--set', 'dashboards.label=grafana.example.com/dashboard'],
      ...['--set', 'dashboards.labelValue=shop'],
      ...['--set', 'dashboards.annotations.grafana_folder=Shop'],
    ]);
    const configMaps = ofKind(objects, 'ConfigMap').filter((cm) =>
      cm.metadata.name.startsWith('shop-dashboard-'),
    );
    expect(configMaps).toHaveLength(dashboardFiles.length);
    for (const configMap of configMaps) {
      expect(configMap.metadata.labels?.['grafana.example.com/dashboard']).toBe('shop');
      expect(configMap.metadata.labels?.grafana_dashboard).toBeUndefined();
      expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Shop' });
    }
    const off = render(['--set', 'dashboards.enabled=false']);
    expect(off.filter((obj) => obj.metadata.name.startsWith('shop-dashboard-'))).toEqual([]);
  });
});

describe("the prometheus-operator's objects", () => {
  it('are off by default', () => {
    expect(render().filter(isMonitoring)).toEqual([]);
  });

  it("make a PodMonitor per service that selects its pods and scrapes the app's and daprd's metrics ports", () => {
    const objects = render([...monitoring, '--set', 'metrics.podMonitor.labels.release=kps']);
    const deployments = ofKind<Workload>(objects, 'Deployment');
    const monitors = ofKind(objects, 'PodMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(
      deployments.map((d) => d.metadata.name).sort(),
    );
    const daprPort = daprMetricsPortName();
    for (const deployment of deployments) {
      const monitor = named(monitors, deployment.metadata.name);
      const podLabels = deployment.spec.template.metadata.labels ?? {};
      expect(podLabels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.metadata.labels?.release).toBe('kps');
      const appPorts = (appContainer(deployment).ports ?? []).map((p) => p.name);
      const byJob = Object.fromEntries(
        monitor.spec.podMetricsEndpoints.map(
          (e: { relabelings: { targetLabel: string; replacement?: string }[] }) => [
            e.relabelings.find((r) => r.targetLabel === 'job')?.replacement,
            e,
          ],
        ),
      );
      expect(Object.keys(byJob).sort()).toEqual(['daprd', 'services']);
      expect(appPorts).toContain(byJob.services.port);
      expect(byJob.daprd.port).toBe(daprPort);
      // The pods say the same to an annotation-driven Prometheus.
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const metricsPort = appContainer(deployment).ports?.find(
        (p) => p.name === byJob.services.port,
      );
      expect(annotations['prometheus.io/port']).toBe(String(metricsPort?.containerPort));
      expect(byJob.services.path).toBe(annotations['prometheus.io/path']);
    }
  });

  it('scrape only daprd where the services serve no metrics (metrics.port 0)', () => {
    const monitors = ofKind(render([...monitoring, '--set', 'metrics.port=0']), 'PodMonitor');
    expect(monitors.length).toBeGreaterThan(0);
    for (const monitor of monitors) {
      expect(monitor.spec.podMetricsEndpoints.map((e: { port: string }) => e.port)).toEqual([
        daprMetricsPortName(),
      ]);
    }
  });

  it('carry the rule files verbatim in one PrometheusRule, templates in annotations untouched', () => {
    const objects = render([...monitoring, '--set', 'metrics.prometheusRule.labels.release=kps']);
    const [rule, ...others] = ofKind(objects, 'PrometheusRule');
    expect(others).toEqual([]);
    expect(rule?.metadata.labels?.release).toBe('kps');
    const groups = ruleFiles.flatMap(
      (file) => parse(readFileSync(join(rulesDir, file), 'utf8')).groups as unknown[],
    );
    expect(rule?.spec.groups).toEqual(groups);
    expect(JSON.stringify(rule?.spec.groups)).toContain('{{ $value');
  });
});

describe('tracing', () => {
  it('is not exported by default: no otel block in the Configurations, no OTEL_ variables', () => {
    const objects = render();
    for (const configuration of ofKind(objects, 'Configuration'))
      expect(configuration.spec.tracing.otel).toBeUndefined();
    for (const deployment of ofKind<Workload>(objects, 'Deployment'))
      expect(otelEnv(deployment), deployment.metadata.name).toEqual({});
  });

  it('sends daprd (gRPC) and the services (HTTP, port 4318) to one collector, sampled alike', () => {
    const objects = render([
      ...['--set', 'dapr.tracing.otlp.endpoint=otel-collector.observability:4317'],
      ...['--set', 'dapr.tracing.samplingRate=0.25'],
    ]);
    const configurations = ofKind(objects, 'Configuration');
    expect(configurations.length).toBeGreaterThan(0);
    for (const configuration of configurations) {
      expect(configuration.spec.tracing).toEqual({
        samplingRate: '0.25',
        otel: {
          endpointAddress: 'otel-collector.observability:4317',
          protocol: 'grpc',
          isSecure: false,
        },
      });
    }
    const deployments = ofKind<Workload>(objects, 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      expect(otelEnv(deployment), deployment.metadata.name).toEqual({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      });
    }
  });

  it('gives the services the same endpoint over HTTP with TLS, or the URL named for them', () => {
    const endpoint = ['--set', 'dapr.tracing.otlp.endpoint=collector.example.com:4318'];
    const http = render([
      ...endpoint,
      ...['--set', 'dapr.tracing.otlp.protocol=http', '--set', 'dapr.tracing.otlp.insecure=false'],
    ]);
    expect(ofKind(http, 'Configuration')[0]?.spec.tracing.otel.isSecure).toBe(true);
    for (const deployment of ofKind<Workload>(http, 'Deployment'))
      expect(envOf(deployment).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        'https://collector.example.com:4318',
      );
    const named_ = render([
      ...endpoint,
      ...['--set', 'dapr.tracing.otlp.servicesEndpoint=http://agent.observability:4318'],
      ...['--set', 'services.orders.env.OTEL_TRACES_SAMPLER=always_on'],
    ]);
    const deployments = ofKind<Workload>(named_, 'Deployment');
    for (const deployment of deployments)
      expect(envOf(deployment).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://agent.observability:4318');
    // A service's own setting wins, once.
    const orders = appContainer(named(deployments, 'orders'));
    expect(orders.env?.filter((e) => e.name === 'OTEL_TRACES_SAMPLER')).toEqual([
      { name: 'OTEL_TRACES_SAMPLER', value: 'always_on' },
    ]);
  });

  it('refuses a services endpoint without the collector endpoint', () => {
    const error = renderError(['--set', 'dapr.tracing.otlp.servicesEndpoint=http://agent:4318']);
    expect(error).toContain('dapr.tracing.otlp.endpoint is empty');
  });
});

describe('the install notes', () => {
  const section = (text: string) => text.slice(text.indexOf('Observability:'));

  it('say where the dashboards are and that traces are not exported by default', () => {
    const text = section(notes());
    expect(text).toContain('ConfigMaps shop-dashboard-* labelled grafana_dashboard=1');
    expect(text).toContain('traces: propagated, not exported (dapr.tracing.otlp.endpoint)');
    expect(text).not.toContain('PodMonitor per service');
  });

  it('name the monitoring objects and where daprd and the services send traces', () => {
    const text = section(
      notes([
        ...monitoring,
        ...['--set', 'dashboards.enabled=false'],
        ...['--set', 'dapr.tracing.otlp.endpoint=otel:4317'],
      ]),
    );
    expect(text).toContain('a PodMonitor per service');
    expect(text).toContain('PrometheusRule shop');
    expect(text).toContain('daprd to otel:4317 (grpc), the services to http://otel:4318');
    expect(text).not.toContain('shop-dashboard-');
  });
});

describe('the values schema', () => {
  it.each([
    ['dashboards.enabeld=false', "additional properties 'enabeld' not allowed"],
    ['metrics.podMonitor.intervall=1m', "additional properties 'intervall' not allowed"],
    ['metrics.prometheusRule.enable=true', "additional properties 'enable' not allowed"],
    [
      'dapr.tracing.otlp.servicesEndpont=http://a:4318',
      "additional properties 'servicesEndpont' not allowed",
    ],
    ['metrics.podMonitor.interval=30 seconds', '/metrics/podMonitor/interval'],
    ['dashboards.label=not a label', '/dashboards/label'],
    ['dapr.tracing.otlp.servicesEndpoint=agent:4318', '/dapr/tracing/otlp/servicesEndpoint'],
  ])('refuses %s', (setting, message) => {
    expect(renderError(['--set', setting])).toContain(message);
  });
});

describe('helm package', () => {
  it('carries the dashboards and rules themselves, not the links', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'shop-chart-observability-'));
    try {
      const packaged = helm(['package', chartDir, '--destination', scratch]);
      expect(packaged.status, packaged.stderr).toBe(0);
      const archive = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
      expect(archive).toBeDefined();
      const fromArchive = renderChart([...tokens, ...monitoring], {
        chart: join(scratch, archive ?? ''),
      });
      expect(fromArchive).toEqual(render(monitoring));
      expect(ofKind(fromArchive, 'PrometheusRule')).toHaveLength(1);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

// One install of everything above, in an API server that knows the prometheus-operator's
// kinds as its pinned release defines them: stored as rendered, then uninstalled.
describe('in a real Kubernetes API server with the prometheus-operator CRDs', () => {
  const namespace = 'observability';
  const valueArgs = [
    ...tokens,
    ...monitoring,
    // No hook Jobs: cluster.test.ts runs those; this install is about the objects above.
    ...['--set', 'migrations.enabled=false'],
    ...['--set', 'dapr.tracing.otlp.endpoint=otel-collector.observability:4317'],
  ];
  let cluster: TestCluster | undefined;
  let helmDir = '';

  beforeAll(async () => {
    // Read before the cluster runs: spawnSync would stall the pipes its processes write to.
    const crds = prometheusOperatorCrds();
    cluster = await startTestCluster({ repoRoot });
    await installPrometheusOperatorCrds(cluster, crds);
    helmDir = join(cluster.dir, 'helm');
    succeeded(await kubectl(['create', 'namespace', namespace]), 'kubectl create namespace');
  }, 15 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  function kubectl(args: string[], input?: string): Promise<CommandResult> {
    if (!cluster) throw new Error('no cluster');
    return cluster.kubectl(args, input);
  }

  function clusterHelm(args: string[]): Promise<CommandResult> {
    if (!cluster) throw new Error('no cluster');
    const { KUBECONFIG: _ignored, ...env } = process.env;
    return runCommand(prepareHelm(), ['--kubeconfig', cluster.kubeconfig, ...args], {
      timeoutMs: 120_000,
      env: {
        ...env,
        HELM_CACHE_HOME: join(helmDir, 'cache'),
        HELM_CONFIG_HOME: join(helmDir, 'config'),
        HELM_DATA_HOME: join(helmDir, 'data'),
      },
    });
  }

  async function rendered(): Promise<K8sObject[]> {
    const args = ['template', 'shop', chartDir, '--namespace', namespace, ...valueArgs];
    const yaml = succeeded(await clusterHelm(args), 'helm template');
    return parseAllDocuments(yaml)
      .map((doc) => doc.toJS() as K8sObject | null)
      .filter((obj): obj is K8sObject => obj !== null);
  }

  const strictDryRun = (objects: K8sObject[]) =>
    kubectl(
      [
        ...['apply', '--server-side', '--dry-run=server', '--validate=strict'],
        ...['--namespace', namespace, '-f', '-'],
      ],
      objects.map((obj) => stringify(obj)).join('---\n'),
    );

  async function stored(kind: string, name: string): Promise<K8sObject | undefined> {
    const got = await kubectl(['get', kind, name, '--namespace', namespace, '-o', 'json']);
    return got.status === 0 ? (JSON.parse(got.stdout) as K8sObject) : undefined;
  }

  it('refuses an unknown field in a PodMonitor and in a PrometheusRule', {
    timeout: 120_000,
  }, async () => {
    const objects = await rendered();
    expect(succeeded(await strictDryRun(objects), 'the strict dry run')).not.toBe('');
    const tampered = [
      (obj: K8sObject) => {
        obj.spec.podMetricsEndpoints[0].portt = 'metrics';
        return 'portt';
      },
      (obj: K8sObject) => {
        obj.spec.groups[0].rules[0].exprr = 'up';
        return 'exprr';
      },
    ];
    for (const [index, kind] of ['PodMonitor', 'PrometheusRule'].entries()) {
      const object = structuredClone(ofKind(objects, kind)[0]);
      expect(object, kind).toBeDefined();
      const field = tampered[index]?.(object as K8sObject);
      const result = await strictDryRun([object as K8sObject]);
      expect(result.status, kind).not.toBe(0);
      expect(result.stderr).toContain(field);
    }
  });

  it('installs them, strictly valid and stored as rendered, and uninstalls them', {
    timeout: 300_000,
  }, async () => {
    const objects = await rendered();
    const install = ['install', 'shop', chartDir, '--namespace', namespace, '--timeout', '60s'];
    const installed = await clusterHelm([...install, ...valueArgs]);
    expect(succeeded(installed, 'helm install')).toMatch(/^STATUS: deployed$/m);

    const monitors = ofKind(objects, 'PodMonitor');
    expect(monitors.length).toBeGreaterThan(0);
    for (const monitor of monitors) {
      const live = await stored('podmonitor', monitor.metadata.name);
      expect(live?.spec, monitor.metadata.name).toEqual(monitor.spec);
    }
    const rule = ofKind(objects, 'PrometheusRule')[0];
    expect((await stored('prometheusrule', 'shop'))?.spec).toEqual(rule?.spec);
    for (const file of dashboardFiles) {
      const name = `shop-dashboard-${file.replace(/\.json$/, '')}`;
      const live = await stored('configmap', name);
      expect(live?.data?.[file], name).toBe(readFileSync(join(dashboardsDir, file), 'utf8'));
    }
    const configuration = await stored('configuration.dapr.io', 'shop-orders');
    expect(configuration?.spec.tracing.otel.endpointAddress).toBe(
      'otel-collector.observability:4317',
    );

    const uninstalled = await clusterHelm([
      'uninstall',
      'shop',
      '--namespace',
      namespace,
      '--wait',
    ]);
    succeeded(uninstalled, 'helm uninstall');
    const left = await kubectl([
      ...['get', 'podmonitors,prometheusrules,configmaps', '--namespace', namespace],
      ...['-l', 'app.kubernetes.io/instance=shop', '-o', 'name'],
    ]);
    expect(succeeded(left, 'kubectl get').trim()).toBe('');
  });
});

function succeeded(result: CommandResult, what: string): string {
  if (result.status !== 0) {
    const why = result.timedOut ? 'timed out' : `exited ${result.status}`;
    throw new Error(`${what} ${why}:\n${result.stderr}\n${result.stdout}`.slice(0, 6_000));
  }
  return result.stdout;
}

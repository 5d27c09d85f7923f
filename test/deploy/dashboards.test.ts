// The Grafana dashboards in observability/dashboards: well-formed for an import, and every
// PromQL expression parsed by a real promtool (as a recording rule of a scratch rules
// file). That every metric they and the rules name is one the shop really exports is
// checked against a real scrape, in test/e2e/observability.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePromtool, whyNoPromtool } from '@shop/devkit/infra';
import { findRepoRoot, runCommand } from '@shop/devkit/process';
import {
  allPanels,
  asPromQL,
  dashboardExpressions,
  type Expression,
  isKnownMetric,
  metricNames,
  readDashboards,
  unlessMissing,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

const repoRoot = findRepoRoot(import.meta.dirname);

/**
 * daprd's own metrics the platform dashboard reads, as its Prometheus exporter names them
 * (pkg/diagnostics of daprd 1.18.2). Its `count` views are counters without `_total`; its
 * latencies are histograms in milliseconds; `http_server_response_count` exists only with
 * legacy metrics, so answers by status come from `request_count`'s `status` label.
 */
const daprdMetrics = [
  'dapr_http_server_request_count',
  'dapr_http_server_latency',
  'dapr_http_client_roundtrip_latency',
  'dapr_http_client_completed_count',
  'dapr_resiliency_activations_total',
  'dapr_component_pubsub_egress_count',
  'dapr_component_pubsub_egress_latencies',
  'dapr_component_pubsub_ingress_count',
  'dapr_component_pubsub_ingress_latencies',
  'dapr_component_state_count',
];

/** How a panel names the dashboard's data source variable (Grafana's syntax, not JS's). */
const grafanaDatasource = ['$', '{datasource}'].join('');

const dashboards = readDashboards(repoRoot);
const dashboardFiles = dashboards.map(({ file }) => file);

describe('the dashboards', () => {
  it('are Grafana dashboards reading a Prometheus data source variable', () => {
    expect(dashboardFiles.sort()).toEqual(['checkout-saga.json', 'overview.json', 'platform.json']);
    const uids = dashboards.map(({ board }) => board.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, board } of dashboards) {
      expect(board.schemaVersion, file).toBeGreaterThanOrEqual(36);
      const datasource = board.templating.list.find((variable) => variable.name === 'datasource');
      expect(datasource, file).toMatchObject({ type: 'datasource', query: 'prometheus' });
      const panels = allPanels(board.panels);
      expect(new Set(panels.map((panel) => panel.id)).size, file).toBe(panels.length);
      for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
        expect(panel, `${file}: ${panel.title}`).toMatchObject({
          datasource: { type: 'prometheus', uid: grafanaDatasource },
        });
        expect(panel.targets?.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) expect(target.expr).toBeTruthy();
      }
    }
  });

  it('show RED per service, the saga funnel and latencies, and the sidecars', () => {
    const text = (file: string) => JSON.stringify(dashboards.find((d) => d.file === file)?.board);
    expect(text('overview.json')).toMatch(/service:http_requests:rate5m/);
    expect(text('overview.json')).toMatch(/service:http_request_errors:ratio_rate5m/);
    expect(text('overview.json')).toMatch(/service:http_request_duration_seconds:p99_5m/);
    for (const metric of [
      'orders_placed_total',
      'inventory_reservations_total',
      'orders_cancelled_total',
      'orders_revenue_minor_total',
      'saga_step_duration_seconds_bucket',
    ]) {
      expect(text('checkout-saga.json')).toContain(metric);
    }
    expect(text('checkout-saga.json')).toContain('histogram_quantile(0.5, sum by (step, le)');
    expect(text('checkout-saga.json')).toContain('histogram_quantile(0.99, sum by (step, le)');
    for (const metric of [...daprdMetrics, 'outbox_backlog_events', 'events_handled_total']) {
      expect(text('platform.json')).toContain(metric);
    }
  });
});

describe('metricNames', () => {
  it('finds the metric names of an expression, and no others', () => {
    const expr =
      'sum by (service, le) (rate(http_request_duration_seconds_bucket{route=~"/api/.*", status!="503"}[$__rate_interval]))' +
      ' / on (service) group_left sum(rate(made_up_total[5m] offset 1h)) or vector(0) > bool 1e3';
    expect(metricNames(expr).sort()).toEqual([
      'http_request_duration_seconds_bucket',
      'made_up_total',
    ]);
    const known = new Set(['saga_step_duration_seconds']);
    expect(isKnownMetric('made_up_total', known)).toBe(false);
    expect(isKnownMetric('saga_step_duration_seconds_bucket', known)).toBe(true);
  });
});

describe.skipIf(unlessMissing(whyNoPromtool()))("the dashboards' expressions", () => {
  let promtool: string;
  let scratch: string;
  let checks = 0;
  beforeAll(() => {
    promtool = ensurePromtool();
    scratch = mkdtempSync(join(tmpdir(), 'shop-dashboards-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** promtool's verdict on `expressions`, each as a recording rule of one scratch file. */
  async function checkAsRules(expressions: Expression[]) {
    checks += 1;
    const file = join(scratch, `check-${checks}.yml`);
    const recorded = expressions.map(({ expr }, index) => ({
      record: `dashboard:expression_${index}`,
      expr: asPromQL(expr),
    }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules: recorded }] }));
    const result = await runCommand(promtool, ['check', 'rules', file]);
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it('all parse (promtool check rules)', async () => {
    const expressions = dashboardExpressions(repoRoot);
    expect(expressions.length).toBeGreaterThan(30);
    const { status, output } = await checkAsRules(expressions);
    // promtool names the failing rule by its index: say which panel that is.
    const failing = [...output.matchAll(/dashboard:expression_(\d+)/g)].map(
      ([, index]) => expressions[Number(index)]?.where,
    );
    expect({ status, failing }, output).toEqual({ status: 0, failing: [] });
    expect(output).toMatch(new RegExp(`SUCCESS: ${expressions.length} rules found`));
  });

  it('would fail on one that does not parse', async () => {
    const broken = { where: 'made up', expr: 'sum by (service (rate(http_requests_total[5m]))' };
    const { status, output } = await checkAsRules([
      ...dashboardExpressions(repoRoot).slice(0, 2),
      broken,
    ]);
    expect(status).not.toBe(0);
    expect(output).toMatch(/dashboard:expression_2/);
  });
});

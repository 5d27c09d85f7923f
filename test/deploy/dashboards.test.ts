// The Grafana dashboards in observability/dashboards: well-formed for an import, every
// PromQL expression parsed by a real promtool (as a recording rule of a scratch rules
// file), and every metric an expression or a rule names one the shop, its recording rules
// or daprd exports.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePromtool, whyNoPromtool } from '@shop/devkit/infra';
import { findRepoRoot, runCommand } from '@shop/devkit/process';
import { unlessMissing } from '@shop/devkit/testing';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const observabilityDir = join(findRepoRoot(import.meta.dirname), 'observability');
const dashboardsDir = join(observabilityDir, 'dashboards');
const rulesDir = join(observabilityDir, 'prometheus', 'rules');

/** The shop's own metrics: the services' and the platform package's (issue 18's list). */
const shopMetrics = [
  'http_requests_total',
  'http_request_duration_seconds',
  'dapr_invoke_callee_server_errors_total',
  'catalog_product_cache_lookups_total',
  'gateway_rate_limited_total',
  'gateway_unverified_limited_total',
  'orders_placed_total',
  'orders_confirmed_total',
  'orders_cancelled_total',
  'orders_revenue_minor_total',
  'saga_step_duration_seconds',
  'payments_charges_total',
  'payments_refunds_total',
  'inventory_reservations_total',
  'outbox_backlog_events',
  'outbox_oldest_event_age_seconds',
  'events_handled_total',
  'events_dead_lettered_total',
  'notifications_open_streams',
  'notifications_mail_queued',
];

/**
 * daprd's own metrics the dashboards read, as its Prometheus exporter names them: Dapr's
 * docs/development/dapr-metrics.md and pkg/diagnostics (http_monitoring.go,
 * component_monitoring.go, resiliency_monitoring.go), checked against daprd 1.18.2. Its
 * `count` views are counters without `_total`; its latencies are histograms in milliseconds.
 */
const daprdMetrics = [
  'dapr_http_server_request_count',
  'dapr_http_server_response_count',
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

type Target = { expr?: string };
type Panel = { id: number; type: string; title: string; targets?: Target[]; panels?: Panel[] };
type Variable = { name: string; type: string; query?: unknown; definition?: string };
type Dashboard = {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
};
type Expression = { where: string; expr: string };

const dashboardFiles = readdirSync(dashboardsDir).filter((name) => name.endsWith('.json'));
const dashboards = dashboardFiles.map((file) => ({
  file,
  board: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard,
}));

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

function dashboardExpressions(): Expression[] {
  return dashboards.flatMap(({ file, board }) =>
    allPanels(board.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `${file}: ${panel.title}`,
        expr: target.expr ?? '',
      })),
    ),
  );
}

type RuleFile = { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] };

function rules() {
  return readdirSync(rulesDir)
    .filter((name) => name.endsWith('.yml'))
    .flatMap((file) => {
      const { groups } = parse(readFileSync(join(rulesDir, file), 'utf8')) as RuleFile;
      return groups.flatMap((group) => group.rules.map((rule) => ({ file, ...rule })));
    });
}

/** Grafana's own interval variables, as a Prometheus would see them after substitution. */
function asPromQL(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

// Operators and modifiers; `group_left` and `group_right` may come without a label list.
const keywords = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'group_left',
  'group_right',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions,
 * keywords, label names (in matchers and grouping clauses) or durations.
 */
function metricNames(expr: string): string[] {
  const bare = asPromQL(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names = new Set<string>();
  for (const [, number, name, call] of bare.matchAll(/(\d[\w.]*)|([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (number || call || !name || keywords.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** The metrics a series name may come from: itself, or the histogram it is a part of. */
function isKnown(name: string, known: Set<string>): boolean {
  const histogram = name.replace(/_(bucket|sum|count)$/, '');
  return known.has(name) || known.has(histogram);
}

/** Node's default metrics, which every service's registry collects (prom-client's). */
async function nodeDefaultMetrics(): Promise<string[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((metric) => metric.name);
}

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

  it('name only metrics the shop, its recording rules or daprd export', async () => {
    const recorded = rules().flatMap((rule) => (rule.record ? [rule.record] : []));
    const known = new Set([
      ...(await nodeDefaultMetrics()),
      ...shopMetrics,
      ...recorded,
      ...daprdMetrics,
    ]);
    const variables = dashboards.flatMap(({ file, board }) =>
      board.templating.list.flatMap((variable) => {
        const query = variable.definition?.match(/^label_values\((\w+),/)?.[1];
        return query ? [{ where: `${file}: $${variable.name}`, expr: query }] : [];
      }),
    );
    const ruleExpressions = rules().map((rule) => ({
      where: `${rule.file}: ${rule.record ?? rule.alert}`,
      expr: rule.expr,
    }));
    const unknown = [...dashboardExpressions(), ...variables, ...ruleExpressions].flatMap(
      ({ where, expr }) =>
        metricNames(expr)
          .filter((name) => !isKnown(name, known))
          .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
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
    expect(isKnown('made_up_total', new Set(shopMetrics))).toBe(false);
    expect(isKnown('saga_step_duration_seconds_bucket', new Set(shopMetrics))).toBe(true);
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
    const expressions = dashboardExpressions();
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
    const { status, output } = await checkAsRules([...dashboardExpressions().slice(0, 2), broken]);
    expect(status).not.toBe(0);
    expect(output).toMatch(/dashboard:expression_2/);
  });
});

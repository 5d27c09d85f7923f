import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// The shop's dashboards (observability/dashboards/*.json, Grafana's format) and Prometheus
// rules (observability/prometheus/rules/*.yml) as data: the expressions they hold and the
// metric names those select, for the tests that parse them and check them against a scrape.

type Target = { expr?: string };
export type Panel = {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
};
type Variable = { name: string; type: string; query?: unknown; definition?: string };
export type Dashboard = {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
};
/** One PromQL expression and where it is written, for messages. */
export type Expression = { where: string; expr: string };
export type Rule = { file: string; record?: string; alert?: string; expr: string };

export function readDashboards(repoRoot: string): Array<{ file: string; board: Dashboard }> {
  const dir = join(repoRoot, 'observability/dashboards');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, board: JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
}

export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Every panel query of every dashboard. */
export function dashboardExpressions(repoRoot: string): Expression[] {
  return readDashboards(repoRoot).flatMap(({ file, board }) =>
    allPanels(board.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `${file}: ${panel.title}`,
        expr: target.expr ?? '',
      })),
    ),
  );
}

/** The metric each `label_values(metric, label)` variable reads, as an expression. */
function variableExpressions(repoRoot: string): Expression[] {
  return readDashboards(repoRoot).flatMap(({ file, board }) =>
    board.templating.list.flatMap((variable) => {
      const metric = variable.definition?.match(/^label_values\((\w+),/)?.[1];
      return metric ? [{ where: `${file}: $${variable.name}`, expr: metric }] : [];
    }),
  );
}

type RuleFile = { groups: { rules: Omit<Rule, 'file'>[] }[] };

export function readRules(repoRoot: string): Rule[] {
  const dir = join(repoRoot, 'observability/prometheus/rules');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml'))
    .flatMap((file) => {
      const { groups } = parse(readFileSync(join(dir, file), 'utf8')) as RuleFile;
      return groups.flatMap((group) => group.rules.map((rule) => ({ file, ...rule })));
    });
}

/** Grafana's own interval variables, as a Prometheus would see them after substitution. */
export function asPromQL(expr: string): string {
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
export function metricNames(expr: string): string[] {
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
export function isKnownMetric(name: string, known: Set<string>): boolean {
  const histogram = name.replace(/_(bucket|sum|count)$/, '');
  return known.has(name) || known.has(histogram);
}

/**
 * Every metric the dashboards, their variables and the rules select that is not in
 * `exported` and not recorded by a rule, as `<where>: <name>`; empty when all are known.
 */
export function unknownMetrics(repoRoot: string, exported: Iterable<string>): string[] {
  const rules = readRules(repoRoot);
  const known = new Set([...exported, ...rules.flatMap((rule) => rule.record ?? [])]);
  const ruleExpressions = rules.map((rule) => ({
    where: `${rule.file}: ${rule.record ?? rule.alert}`,
    expr: rule.expr,
  }));
  const expressions = [
    ...dashboardExpressions(repoRoot),
    ...variableExpressions(repoRoot),
    ...ruleExpressions,
  ];
  return expressions.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((name) => !isKnownMetric(name, known))
      .map((name) => `${where}: ${name}`),
  );
}

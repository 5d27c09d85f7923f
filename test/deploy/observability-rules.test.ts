// The shop's alerting and recording rules (observability/prometheus), checked by a real
// promtool (Debian's `prometheus` package): `check rules` for their syntax, `test rules`
// for the unit tests beside them, which fire and clear every alert on made-up series.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePromtool, whyNoPromtool } from '@shop/devkit/infra';
import { findRepoRoot, runCommand } from '@shop/devkit/process';
import { unlessMissing } from '@shop/devkit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const prometheusDir = join(findRepoRoot(import.meta.dirname), 'observability', 'prometheus');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml'))
    .map((name) => join(dir, name));
}

const ruleFiles = yamlFiles(join(prometheusDir, 'rules'));
const unitTestFiles = yamlFiles(join(prometheusDir, 'tests'));

type AlertRule = {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

type AlertCheck = { alertname: string; exp_alerts?: unknown[] };
type UnitTest = { name: string; alert_rule_test?: AlertCheck[] };

function alertRules(): AlertRule[] {
  return ruleFiles.flatMap((file) => {
    const { groups } = parse(readFileSync(file, 'utf8')) as { groups: { rules: object[] }[] };
    return groups
      .flatMap((group) => group.rules)
      .filter((rule): rule is AlertRule => 'alert' in rule);
  });
}

/** Each alert's unit tests, by whether they expect it firing or quiet. */
function alertChecks(): Map<string, { firing: string[]; quiet: string[] }> {
  const checks = new Map<string, { firing: string[]; quiet: string[] }>();
  for (const file of unitTestFiles) {
    const { tests } = parse(readFileSync(file, 'utf8')) as { tests: UnitTest[] };
    for (const test of tests) {
      for (const check of test.alert_rule_test ?? []) {
        const entry = checks.get(check.alertname) ?? { firing: [], quiet: [] };
        (check.exp_alerts?.length ? entry.firing : entry.quiet).push(test.name);
        checks.set(check.alertname, entry);
      }
    }
  }
  return checks;
}

describe('the alerting and recording rules', () => {
  it('are there, each alert with a severity, a summary and a description', () => {
    const alerts = alertRules();
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'CheckoutSuccessRatioLow',
        'CheckoutConfirmationSlow',
        'EventsDeadLettered',
        'OutboxLagging',
        'CircuitOpen',
        'NotificationStreamsNearLimit',
      ]),
    );
    for (const rule of alerts) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('unit-test every alert both firing and quiet', () => {
    const checks = alertChecks();
    for (const { alert } of alertRules()) {
      const entry = checks.get(alert);
      expect(entry?.firing.length, `${alert}: a test where it fires`).toBeGreaterThan(0);
      expect(entry?.quiet.length, `${alert}: a test where it stays quiet`).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(unlessMissing(whyNoPromtool()))('promtool', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = ensurePromtool();
  });

  it('checks the rule files', async () => {
    const result = await runCommand(promtool, ['check', 'rules', ...ruleFiles]);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS/);
  });

  it("passes the rules' unit tests", async () => {
    const result = await runCommand(promtool, ['test', 'rules', ...unitTestFiles]);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).not.toMatch(/FAILED/);
  });

  it('fails those unit tests when a threshold is loosened', async () => {
    // A copy of the rules with the streams alert raised to the very limit it warns of.
    const copy = mkdtempSync(join(tmpdir(), 'shop-rules-'));
    try {
      cpSync(prometheusDir, copy, { recursive: true });
      const alerts = join(copy, 'rules', 'alerts.yml');
      const original = readFileSync(alerts, 'utf8');
      const loosened = original.replace('open_streams > 800', 'open_streams > 1000');
      expect(loosened).not.toBe(original);
      writeFileSync(alerts, loosened);
      const tests = yamlFiles(join(copy, 'tests'));
      const result = await runCommand(promtool, ['test', 'rules', ...tests]);
      expect(result.status).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).toMatch(
        /FAILED[\s\S]*NotificationStreamsNearLimit/,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pollUntil } from '../process/poll.ts';
import { httpAnswersOk } from '../process/probes.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { ensureDebianProgram } from '../process/system.ts';

/** One /metrics endpoint for Prometheus to scrape. */
export type ScrapeTarget = {
  /** `services` (a service's METRICS_PORT) or `daprd` (a sidecar's metrics port). */
  job: 'services' | 'daprd';
  /** The process name, e.g. `orders` or `orders-dapr`; Prometheus's `instance` label. */
  instance: string;
  port: number;
};

export type PrometheusHandle = {
  /** Its HTTP API and UI, e.g. http://127.0.0.1:41234/api/v1/query?query=up. */
  url: string;
};

/** The group's process name of the shop's Prometheus. */
export const prometheusProcessName = 'prometheus';

/** Every target is scraped (and every rule evaluated) this often. */
export const scrapeIntervalSeconds = 5;

/** The rules folder Prometheus loads when it exists (observability/prometheus/rules/*.yml). */
export const prometheusRulesDir = (repoRoot: string) =>
  join(repoRoot, 'observability', 'prometheus', 'rules');

/** The Prometheus server of Debian's package, installed when missing and running as root. */
export const ensurePrometheus = () => ensureDebianProgram('prometheus', 'prometheus');

/**
 * prometheus.yml for the shop: one job per kind of target, each target labelled with its
 * process name instead of host:port (ports change at every start). The `service` label
 * stays the one the services put on their own series.
 */
export function prometheusConfig(targets: ScrapeTarget[], ruleFiles: string[]): string {
  const jobs = [...new Set(targets.map((target) => target.job))];
  return stringify({
    global: {
      scrape_interval: `${scrapeIntervalSeconds}s`,
      evaluation_interval: `${scrapeIntervalSeconds}s`,
    },
    rule_files: ruleFiles,
    scrape_configs: jobs.map((job) => ({
      job_name: job,
      static_configs: targets
        .filter((target) => target.job === job)
        .map((target) => ({
          targets: [`127.0.0.1:${target.port}`],
          labels: { instance: target.instance },
        })),
    })),
  });
}

/**
 * A private Prometheus on a loopback port scraping `targets`, with the repository's rules
 * when they exist; its data under `<dataDir>/prometheus`, kept for a day. Resolves once it
 * reports ready.
 */
export async function startPrometheus(
  group: ProcessGroup,
  options: { repoRoot: string; dataDir: string; port: number; targets: ScrapeTarget[] },
): Promise<PrometheusHandle> {
  const binary = ensurePrometheus();
  const dir = join(options.dataDir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const rulesDir = prometheusRulesDir(options.repoRoot);
  const ruleFiles = existsSync(rulesDir) ? [join(rulesDir, '*.yml')] : [];
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options.targets, ruleFiles));
  const url = `http://127.0.0.1:${options.port}`;
  group.start({
    name: prometheusProcessName,
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1d',
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
  await pollUntil(async () => ((await httpAnswersOk(`${url}/-/ready`)) ? true : undefined), {
    what: `prometheus to be ready on ${url}`,
    timeoutMs: 30_000,
    intervalMs: 100,
    giveUpIf: () =>
      group.has(prometheusProcessName) ? undefined : 'prometheus exited during start (see its log)',
  });
  return { url };
}

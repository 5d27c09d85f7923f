// `npm run soak`: the shop under a constant-rate mix of shoppers for minutes, optionally with
// every service twice and random kill -9s, then a verdict on what was kept and what was lost,
// printed and written as report.html and report.json. `npm run soak -- --help` lists options;
// `npm run soak -- table <report.json>...` prints the README's table of earlier runs.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@shop/devkit/process';
import { brokerFromEnv, stateStoreFromEnv } from '@shop/devkit/shop';
import { parseSoakArgs, usage } from './soak/options.ts';
import { brokerTable, summaryLines, writeReport } from './soak/report/render.ts';
import type { SoakReport } from './soak/report-types.ts';
import { runSoak } from './soak/run.ts';

if (process.argv[2] === 'table') {
  const reports = process.argv
    .slice(3)
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as SoakReport);
  console.log(brokerTable(reports));
  process.exit(0);
}

let options: ReturnType<typeof parseSoakArgs>;
try {
  options = parseSoakArgs(process.argv.slice(2), {
    broker: process.env.SHOP_BROKER ? brokerFromEnv() : 'redis',
    stateStore: process.env.SHOP_STATE_STORE ? stateStoreFromEnv() : 'redis',
  });
} catch (error) {
  console.error(`soak: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = options.out ?? join(findRepoRoot(), '.shop', 'soak', `${stamp}-${options.broker}`);
const dataDir = join(outDir, 'shop');
const report = await runSoak({ ...options, dataDir, log: (line) => console.log(line) });
const files = await writeReport(report, outDir);
for (const line of summaryLines(report)) console.log(line);
console.log(`soak: report ${files.html} (figures: ${files.json})`);
// The shop's data and logs stay for a failed run, to read what went wrong.
if (report.verdict.passed && !options.keepData) rmSync(dataDir, { recursive: true, force: true });
process.exit(report.verdict.passed ? 0 : 1);

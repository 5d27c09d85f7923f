// The soak report's outputs: the page and picture, the JSON, the terminal summary, the README row.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SoakReport } from '../report-types.ts';
import { renderChart } from './chart.ts';
import { reportHtml } from './html.ts';

export { brokerTable, summaryLines, tableColumns, tableRow } from './summary.ts';

/** The page and its picture. Async because Vega renders asynchronously. */
export async function renderReport(report: SoakReport): Promise<{ html: string; svg: string }> {
  const svg = await renderChart(report);
  return { html: reportHtml(report, svg), svg };
}

/** Writes report.html, report.json and report.svg into `dir` and returns their paths. */
export async function writeReport(
  report: SoakReport,
  dir: string,
): Promise<{ html: string; json: string; svg: string }> {
  const { html, svg } = await renderReport(report);
  mkdirSync(dir, { recursive: true });
  const paths = {
    html: join(dir, 'report.html'),
    json: join(dir, 'report.json'),
    svg: join(dir, 'report.svg'),
  };
  writeFileSync(paths.html, html);
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.svg, svg);
  return paths;
}

// The verdict in words: a dozen lines for the terminal, and one README table row per run.
import type { SoakReport } from '../report-types.ts';
import {
  escapeCell,
  formatCount,
  formatMs,
  healTimes,
  invariantsText,
  median,
  overallP99,
  percent,
  runTitle,
  sum,
  totals,
} from './format.ts';

function p99Text(report: SoakReport): string {
  const p99 = overallP99(report);
  // Without an overall figure, the worst operation's p99 bounds it from above.
  return `${p99.exact || p99.ms === null ? '' : '≤ '}${formatMs(p99.ms)}`;
}

function rateText(report: SoakReport): string {
  const asked = report.options.rate;
  const held = report.achievedRate;
  return `${asked} req/s asked, ${held.toFixed(1)} held (${percent(held, asked)}) for ${report.durationSeconds} s`;
}

function outcomesText(report: SoakReport): string {
  if (Object.keys(report.outcomes).length === 0) return 'none';
  return Object.entries(report.outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, n]) => `${outcome} ${formatCount(n)}`)
    .join(' · ');
}

function ordersText(report: SoakReport): string {
  const o = report.orders;
  return (
    `${formatCount(o.acknowledged)} acknowledged, ${formatCount(o.terminal)} terminal ` +
    `(${percent(o.terminal, o.acknowledged)}), ${o.lost.length} lost, ` +
    `${o.doubled.length} doubled, ${o.overdue.length} overdue`
  );
}

function killsText(report: SoakReport): string {
  const kills = report.kills;
  if (kills.length === 0) return 'none';
  const heals = healTimes(kills);
  const neverHealed = kills.filter((k) => k.firstErrorSecond !== null && k.healMs === null).length;
  const notRestarted = kills.filter((k) => k.restartedAfterMs === null).length;
  const healed = heals.length
    ? `heal median ${formatMs(median(heals))}, max ${formatMs(Math.max(...heals))}`
    : 'nothing needed healing';
  return `${kills.length}; ${healed}; ${neverHealed} never healed; ${notRestarted} not restarted`;
}

function restartsText(report: SoakReport): string {
  const entries = Object.entries(report.restarts).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'none';
  return `${sum(entries.map(([, n]) => n))}: ${entries.map(([name, n]) => `${name} ${n}`).join(', ')}`;
}

/** The verdict as a person reads it at a glance in the terminal. */
export function summaryLines(report: SoakReport): string[] {
  const { passed, reasons } = report.verdict;
  const { requests, errors } = totals(report);
  const deadLetters = sum(Object.values(report.deadLetters));
  return [
    `SOAK ${passed ? 'PASSED' : 'FAILED'}: ${runTitle(report)}`,
    ...reasons.map((reason) => `  ✗ ${reason}`),
    `rate         ${rateText(report)}`,
    `requests     ${formatCount(requests)}: ${outcomesText(report)}`,
    `errors       ${formatCount(errors)} (${percent(errors, requests)})`,
    `latency      p99 ${p99Text(report)}`,
    `orders       ${ordersText(report)}`,
    `settle       p50 ${formatMs(report.orders.settle.p50Ms)}, p99 ${formatMs(report.orders.settle.p99Ms)}`,
    `invariants   ${invariantsText(report)}`,
    `dead letters ${formatCount(deadLetters)}`,
    `kills        ${killsText(report)}`,
    `restarts     ${restartsText(report)}`,
  ];
}

export const tableColumns = [
  'broker',
  'replicas',
  'minutes',
  'rate asked / held',
  'requests',
  'errors (%)',
  'p99',
  'orders acknowledged',
  'lost / doubled / overdue',
  'invariants',
  'kills',
  'median heal',
  'verdict',
] as const;

/** One run as a row of the README's per-broker table. */
export function tableRow(report: SoakReport): string {
  const { requests, errors } = totals(report);
  const heal = median(healTimes(report.kills));
  const cells = [
    report.options.broker,
    report.options.replicas,
    report.options.minutes,
    `${report.options.rate} / ${report.achievedRate.toFixed(1)}`,
    formatCount(requests),
    `${formatCount(errors)} (${percent(errors, requests)})`,
    p99Text(report),
    formatCount(report.orders.acknowledged),
    `${report.orders.lost.length} / ${report.orders.doubled.length} / ${report.orders.overdue.length}`,
    invariantsText(report),
    report.kills.length,
    formatMs(heal),
    report.verdict.passed ? 'passed' : `failed: ${report.verdict.reasons.join('; ')}`,
  ];
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

/** The README's per-broker table, one row per run. */
export function brokerTable(reports: SoakReport[]): string {
  const head = `| ${tableColumns.join(' | ')} |`;
  const rule = `| ${tableColumns.map(() => '---').join(' | ')} |`;
  return [head, rule, ...reports.map(tableRow)].join('\n');
}

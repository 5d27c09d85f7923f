// Small formatters shared by the page, the terminal summary and the README table.
import type { Kill, SoakReport } from '../report-types.ts';

const htmlEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => htmlEntities[char] ?? char);
}

/** Text made safe for one markdown table cell: a pipe or a newline would break the row. */
export function escapeCell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const share = (100 * part) / whole;
  return `${share < 0.1 && share > 0 ? share.toFixed(2) : share.toFixed(1)}%`;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}

export function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Heal times of the kills that healed; a kill that broke nothing or never healed has none. */
export function healTimes(kills: Kill[]): number[] {
  return kills.flatMap((kill) => (kill.healMs === null ? [] : [kill.healMs]));
}

export function totals(report: SoakReport): { requests: number; ok: number; errors: number } {
  const operations = report.operations;
  return {
    requests: sum(operations.map((operation) => operation.requests)),
    ok: sum(operations.map((operation) => operation.ok)),
    errors: sum(operations.map((operation) => operation.errors)),
  };
}

/**
 * The p99 over every request. Percentiles of parts cannot be merged exactly, so without an
 * `overall` figure in the report this is the worst operation's p99: an upper bound.
 */
export function overallP99(report: SoakReport): { ms: number | null; exact: boolean } {
  const overall = (report as SoakReport & { overall?: { p99Ms: number } }).overall;
  if (overall) return { ms: overall.p99Ms, exact: true };
  const answered = report.operations.filter((operation) => operation.ok > 0);
  if (answered.length === 0) return { ms: null, exact: false };
  return { ms: Math.max(...answered.map((operation) => operation.p99Ms)), exact: false };
}

export function invariantsText(report: SoakReport): string {
  const count = report.invariants.length;
  return count === 0 ? 'hold' : `${count} violation${count === 1 ? '' : 's'}`;
}

export function runTitle(report: SoakReport): string {
  const { broker, stateStore, rate, replicas, minutes } = report.options;
  const { cpus, cpuModel } = report.machine;
  return (
    `${broker} + ${stateStore} · ${rate} req/s · ${replicas} replica${replicas === 1 ? '' : 's'}` +
    ` · ${minutes} min · ${cpus} cpus (${cpuModel})`
  );
}

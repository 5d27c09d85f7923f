// The report as one self-contained HTML page: the verdict first, the picture, then every figure
// as a table. Nothing is fetched: the picture is inlined, the style is in the page.
import type { Percentiles, SoakReport } from '../report-types.ts';
import { escapeHtml, formatCount, formatMs, percent, runTitle, sum } from './format.ts';
import { summaryLines } from './summary.ts';

type Cell = string | number | null;

function table(caption: string, head: string[], rows: Cell[][]): string {
  const headRow = `<tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.length
    ? rows
        .map(
          (row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell ?? '–')}</td>`).join('')}</tr>`,
        )
        .join('\n')
    : `<tr><td colspan="${head.length}" class="none">none</td></tr>`;
  return `<section><h2>${escapeHtml(caption)}</h2><table><thead>${headRow}</thead><tbody>${body}</tbody></table></section>`;
}

function percentileCells(p: Percentiles): string[] {
  return [formatMs(p.p50Ms), formatMs(p.p90Ms), formatMs(p.p99Ms), formatMs(p.maxMs)];
}

function verdictBlock(report: SoakReport): string {
  const { passed, reasons } = report.verdict;
  const word = passed ? 'PASSED' : 'FAILED';
  const list = reasons.length
    ? `<ul>${reasons.map((reason) => `<li>${escapeHtml(reason)}</li>`).join('')}</ul>`
    : '';
  return `<div class="verdict ${passed ? 'passed' : 'failed'}"><strong>${word}</strong>${list}</div>`;
}

function outcomesTable(report: SoakReport): string {
  const total = sum(Object.values(report.outcomes));
  const rows = Object.entries(report.outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, count]): Cell[] => [outcome, formatCount(count), percent(count, total)]);
  return table('Outcomes', ['outcome', 'requests', 'share'], rows);
}

function operationsTable(report: SoakReport): string {
  const rows = report.operations.map((op): Cell[] => [
    op.name,
    formatCount(op.requests),
    formatCount(op.errors),
    percent(op.errors, op.requests),
    ...percentileCells(op),
  ]);
  const head = ['operation', 'requests', 'errors', 'errors %', 'p50', 'p90', 'p99', 'max'];
  return table('Operations', head, rows);
}

function ordersTable(report: SoakReport): string {
  const o = report.orders;
  const ids = (list: string[]) => (list.length ? `${list.length}: ${list.join(', ')}` : '0');
  const rows: Cell[][] = [
    ['acknowledged (202)', formatCount(o.acknowledged)],
    [
      'terminal within expiry',
      `${formatCount(o.terminal)} (${percent(o.terminal, o.acknowledged)})`,
    ],
    ['confirmed', formatCount(o.confirmed)],
    ...Object.entries(o.cancelled).map(([reason, n]): Cell[] => [`cancelled: ${reason}`, n]),
    ['lost', ids(o.lost)],
    ['doubled', ids(o.doubled)],
    ['overdue', ids(o.overdue)],
    ['settle p50 / p90 / p99 / max', percentileCells(o.settle).join(' / ')],
  ];
  return table('Orders', ['figure', 'value'], rows);
}

function invariantsTable(report: SoakReport): string {
  const rows = report.invariants.map((v): Cell[] => [v.invariant, v.message, v.ids.join(', ')]);
  const caption = rows.length ? 'Invariants: violated' : 'Invariants: all hold';
  return table(caption, ['invariant', 'message', 'ids'], rows);
}

function countsTable(caption: string, key: string, counts: Record<string, number>): string {
  const rows = Object.entries(counts).map(([name, n]): Cell[] => [name, formatCount(n)]);
  return table(caption, [key, 'count'], rows);
}

function killsTable(report: SoakReport): string {
  const rows = report.kills.map((kill): Cell[] => [
    `${kill.atSecond} s`,
    kill.process,
    kill.restartedAfterMs === null ? 'not restarted' : formatMs(kill.restartedAfterMs),
    kill.affected.join(', '),
    kill.firstErrorSecond === null ? 'no errors' : `${kill.firstErrorSecond} s`,
    kill.healMs === null ? (kill.firstErrorSecond === null ? '–' : 'never') : formatMs(kill.healMs),
  ]);
  const head = ['at', 'process', 'restarted after', 'affected', 'first error', 'healed after'];
  return table('Kills', head, rows);
}

function streamsTable(report: SoakReport): string {
  const s = report.streams;
  return table(
    'Notification streams',
    ['opened', 'reconnects', 'events'],
    [[s.opened, s.reconnects, s.events]],
  );
}

function settingsTable(report: SoakReport): string {
  const o = report.options;
  const m = report.machine;
  const mix = Object.entries(o.mix)
    .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
    .join(', ');
  const rows: Cell[][] = [
    ['started at', report.startedAt],
    ['minutes', o.minutes],
    ['rate asked / held', `${o.rate} / ${report.achievedRate.toFixed(1)} req/s`],
    ['mix', mix],
    ['broker', o.broker],
    ['state store', o.stateStore],
    ['replicas', o.replicas],
    ['a kill every', o.chaosEverySeconds === null ? 'no chaos' : `${o.chaosEverySeconds} s`],
    ['seed', o.seed],
    ['machine', `${m.cpus} cpus (${m.cpuModel}), ${m.memoryGiB} GiB`],
    ['node', m.node],
    ['os', m.os],
  ];
  return table('Options and machine', ['setting', 'value'], rows);
}

const style = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1080px;padding:0 16px;color:#222}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 6px}
.verdict{padding:12px 16px;border-radius:6px;font-size:16px;margin-bottom:12px}
.verdict strong{font-size:22px;letter-spacing:.04em}
.passed{background:#e8f6ec;border:2px solid #27ae60}.failed{background:#fdecea;border:2px solid #c0392b}
.summary{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:#f7f7f7;padding:10px 14px;white-space:pre-wrap}
img{max-width:100%;height:auto;border:1px solid #eee}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e3e3e3;padding:3px 12px 3px 0;text-align:left;vertical-align:top}
td.none{color:#888}`;

/** The terminal summary less its verdict and reasons, which the page shows above it. */
function figureLines(report: SoakReport): string[] {
  return summaryLines(report).slice(1 + report.verdict.reasons.length);
}

/** The page; `svg` is the chart, inlined as an image so nothing in it can run. */
export function reportHtml(report: SoakReport, svg: string): string {
  const title = `Soak: ${runTitle(report)}`;
  const picture = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
  const sections = [
    operationsTable(report),
    outcomesTable(report),
    ordersTable(report),
    invariantsTable(report),
    countsTable('Dead letters', 'where', report.deadLetters),
    countsTable('Restarts', 'process', report.restarts),
    killsTable(report),
    streamsTable(report),
    settingsTable(report),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${style}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
${verdictBlock(report)}
<pre class="summary">${escapeHtml(figureLines(report).join('\n'))}</pre>
<img src="${picture}" alt="Throughput, latency percentiles and errors per second, with the kills marked">
${sections.join('\n')}
</body></html>
`;
}

import { isSidecarSpan, type JaegerSpan, type JaegerTrace, parentOf, serviceOf } from './jaeger.ts';

// A trace drawn as a waterfall, one row per span under its parent, for terminals (text) and
// for pages (SVG): what Jaeger's UI shows, where that UI cannot be built.

export type WaterfallRow = {
  depth: number;
  service: string;
  side: 'app' | 'sidecar';
  name: string;
  /** From the trace's first span's start. */
  startMs: number;
  durationMs: number;
};

/**
 * The spans of `trace` depth first, children by start time; `keep` leaves spans out (their
 * children move up to the nearest kept ancestor).
 */
export function waterfallRows(
  trace: JaegerTrace,
  keep: (span: JaegerSpan) => boolean = () => true,
): WaterfallRow[] {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const span of trace.spans) {
    const parent = ids.has(parentOf(span) ?? '') ? parentOf(span) : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const origin = Math.min(...trace.spans.map((span) => span.startTime));
  const rows: WaterfallRow[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    const ordered = (children.get(parent) ?? []).sort((a, b) => a.startTime - b.startTime);
    for (const span of ordered) {
      const kept = keep(span);
      if (kept) rows.push(rowOf(trace, span, depth, origin));
      visit(span.spanID, kept ? depth + 1 : depth);
    }
  };
  visit(undefined, 0);
  return rows;
}

function rowOf(trace: JaegerTrace, span: JaegerSpan, depth: number, origin: number): WaterfallRow {
  return {
    depth,
    service: serviceOf(trace, span),
    side: isSidecarSpan(span) ? 'sidecar' : 'app',
    name: span.operationName,
    startMs: (span.startTime - origin) / 1000,
    durationMs: span.duration / 1000,
  };
}

const label = (row: WaterfallRow) =>
  `${row.service}${row.side === 'sidecar' ? ' (daprd)' : ''}: ${row.name}`;

/** One line per span: start and duration in ms, then the span indented under its parent. */
export function textWaterfall(rows: WaterfallRow[]): string {
  return rows
    .map(
      (row) =>
        `${row.startMs.toFixed(1).padStart(9)} ms ${row.durationMs.toFixed(1).padStart(8)} ms  ${'  '.repeat(row.depth)}${label(row)}`,
    )
    .join('\n');
}

const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948'];
const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * An SVG picture of the waterfall: labels on the left, a bar per span on a common time
 * axis, one colour per service (its sidecar's bars paler).
 */
export function svgWaterfall(rows: WaterfallRow[], title: string): string {
  const rowHeight = 16;
  const labelWidth = 520;
  const barWidth = 680;
  const top = 40;
  const endMs = Math.max(1, ...rows.map((row) => row.startMs + row.durationMs));
  const services = [...new Set(rows.map((row) => row.service))];
  const colour = (row: WaterfallRow) => palette[services.indexOf(row.service) % palette.length];
  const x = (ms: number) => labelWidth + (ms / endMs) * barWidth;
  const body = rows.map((row, i) => {
    const y = top + i * rowHeight;
    const width = Math.max(1, x(row.startMs + row.durationMs) - x(row.startMs));
    const opacity = row.side === 'sidecar' ? 0.5 : 1;
    // About 6.6 px a character at this size: a long name is cut short of the bars.
    const room = Math.floor((labelWidth - 8 - row.depth * 10) / 6.6);
    const text = label(row).length > room ? `${label(row).slice(0, room - 1)}…` : label(row);
    return [
      `<text x="${4 + row.depth * 10}" y="${y + 12}">${escapeXml(text)}</text>`,
      `<rect x="${x(row.startMs).toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${colour(row)}" fill-opacity="${opacity}"><title>${row.durationMs.toFixed(1)} ms</title></rect>`,
    ].join('');
  });
  const height = top + rows.length * rowHeight + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 20}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${labelWidth}" y="32">0 ms</text><text x="${labelWidth + barWidth}" y="32" text-anchor="end">${endMs.toFixed(0)} ms</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

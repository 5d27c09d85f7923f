import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JaegerTrace } from './jaeger.ts';
import { isDatabaseSpan } from './jaeger.ts';
import { svgWaterfall, textWaterfall, waterfallRows } from './waterfall.ts';

// An excerpt of a real checkout's trace as Jaeger's API returned it: the gateway's and
// orders' spans (and their sidecars'), with parents outside the excerpt left dangling.
const trace = JSON.parse(
  readFileSync(join(import.meta.dirname, 'testdata/checkout-excerpt.json'), 'utf8'),
) as JaegerTrace;

describe('a trace as a waterfall', () => {
  it('puts each span under its parent, children in start order, sidecars marked', () => {
    const rows = waterfallRows(trace);
    expect(rows).toHaveLength(trace.spans.length);
    expect(rows[0]).toMatchObject({ depth: 0, service: 'gateway', side: 'app', startMs: 0 });
    expect(rows.some((row) => row.depth > 1)).toBe(true);
    for (const [i, row] of rows.entries()) {
      if (row.depth > 0) expect(rows[i - 1]?.depth).toBeGreaterThanOrEqual(row.depth - 1);
    }
    expect(rows.some((row) => row.side === 'sidecar')).toBe(true);
  });

  it('leaves out what is not kept, moving its children up', () => {
    const all = waterfallRows(trace);
    const kept = waterfallRows(trace, (span) => !isDatabaseSpan(span));
    const databaseSpans = trace.spans.filter(isDatabaseSpan).length;
    expect(databaseSpans).toBeGreaterThan(0);
    expect(kept).toHaveLength(all.length - databaseSpans);
    expect(kept.some((row) => row.name.startsWith('INSERT'))).toBe(false);
  });

  it('draws text and SVG with one line or bar per span', () => {
    const rows = waterfallRows(trace);
    expect(textWaterfall(rows).split('\n')).toHaveLength(rows.length);
    const svg = svgWaterfall(rows, 'a <checkout>');
    expect(svg.match(/<rect x=/g)).toHaveLength(rows.length);
    expect(svg).toContain('a &lt;checkout&gt;');
  });
});

// The run drawn as one SVG: three panels on a shared time axis, the kills as rules across all.
// Vega-Lite describes the chart; Vega renders it headless to an SVG string (no canvas needed).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SoakReport } from '../report-types.ts';
import { runTitle } from './format.ts';

type Panel = 'throughput' | 'latency' | 'errors';
type Point = { panel: Panel; series: string; second: number; value: number };

const width = 860;
const panelHeight = 150;
const killColor = '#c0392b';

/** The timeline as long rows, one per (second, series); a latency of 0 means nothing answered. */
function seriesRows(report: SoakReport): Point[] {
  return report.timeline.flatMap((s) => {
    const rows: Point[] = [
      { panel: 'throughput', series: 'sent', second: s.second, value: s.sent },
      { panel: 'throughput', series: 'ok', second: s.second, value: s.ok },
      { panel: 'errors', series: 'errors', second: s.second, value: s.errors },
    ];
    const latencies: Array<[string, number]> = [
      ['p50', s.p50Ms],
      ['p90', s.p90Ms],
      ['p99', s.p99Ms],
    ];
    for (const [series, value] of latencies) {
      if (value > 0) rows.push({ panel: 'latency', series, second: s.second, value });
    }
    return rows;
  });
}

function killLayers(domain: [number, number]) {
  const x = { field: 'atSecond', type: 'quantitative', scale: { domain } } as const;
  return [
    {
      data: { name: 'kills' },
      mark: { type: 'rule', color: killColor, strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { x },
    },
    {
      data: { name: 'kills' },
      mark: {
        type: 'text',
        color: killColor,
        angle: 270,
        align: 'right',
        baseline: 'bottom',
        dx: -3,
        dy: -2,
        fontSize: 9,
      },
      encoding: { x, y: { value: 0 }, text: { field: 'process' } },
    },
  ];
}

function seriesLayer(panel: Panel, domain: [number, number], y: Record<string, unknown>) {
  return {
    data: { name: 'series' },
    transform: [{ filter: { field: 'panel', equal: panel } }],
    mark: { type: 'line', strokeWidth: 1.2, interpolate: 'linear' },
    encoding: {
      x: {
        field: 'second',
        type: 'quantitative',
        scale: { domain },
        title: panel === 'errors' ? 'seconds since the load began' : null,
      },
      y: { field: 'value', type: 'quantitative', ...y },
      color: {
        field: 'series',
        type: 'nominal',
        legend: { title: null, orient: 'right' },
        scale: colorScale(panel),
      },
    },
  };
}

function colorScale(panel: Panel) {
  if (panel === 'throughput') return { domain: ['sent', 'ok'], range: ['#7f8c8d', '#27ae60'] };
  if (panel === 'latency')
    return { domain: ['p50', 'p90', 'p99'], range: ['#2980b9', '#8e44ad', '#d35400'] };
  return { domain: ['errors'], range: [killColor] };
}

function targetLayers(rate: number) {
  return [
    {
      data: { values: [{}] },
      mark: { type: 'rule', color: '#34495e', strokeDash: [6, 4], strokeWidth: 1 },
      encoding: { y: { datum: rate } },
    },
    {
      data: { values: [{}] },
      mark: { type: 'text', color: '#34495e', align: 'right', dx: -4, dy: -6, fontSize: 9 },
      encoding: { x: { value: width }, y: { datum: rate }, text: { value: `target ${rate}/s` } },
    },
  ];
}

export function chartSpec(report: SoakReport): TopLevelSpec {
  const end = Math.max(report.durationSeconds, ...report.timeline.map((s) => s.second + 1), 1);
  const domain: [number, number] = [0, end];
  const panel = (name: Panel, y: Record<string, unknown>, extra: object[] = []) => ({
    width,
    height: panelHeight,
    layer: [seriesLayer(name, domain, y), ...extra, ...killLayers(domain)],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: runTitle(report), anchor: 'start', fontSize: 13 },
    background: 'white',
    padding: 12,
    datasets: {
      series: seriesRows(report),
      kills: report.kills.map((kill) => ({ atSecond: kill.atSecond, process: kill.process })),
    },
    vconcat: [
      panel('throughput', { title: 'requests / s' }, targetLayers(report.options.rate)),
      panel('latency', { title: 'latency (ms, log)', scale: { type: 'log' } }),
      panel('errors', { title: 'errors / s' }),
    ],
    resolve: { scale: { color: 'independent' } },
    config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' } },
  } as TopLevelSpec;
}

/** The chart as a standalone SVG document. */
export async function renderChart(report: SoakReport): Promise<string> {
  const { spec } = compile(chartSpec(report));
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

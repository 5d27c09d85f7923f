import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeReport } from './fixture.ts';
import { brokerTable, renderReport, summaryLines, tableColumns, writeReport } from './render.ts';

const hostile = '<script>alert(1)</script>';

function hostileReport() {
  const report = fakeReport({ killedProcesses: ['orders', hostile, 'postgres'] });
  report.verdict = { passed: false, reasons: ['2 orders lost', `reason with ${hostile}`] };
  report.orders.lost = ['ord_1', 'ord_2'];
  return report;
}

/** The text of every <text> element, entities decoded, in the order drawn. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
  );
}

describe('the soak report picture', () => {
  it('is one well-formed SVG with three panels and every kill labelled on each', async () => {
    const report = fakeReport();
    const { svg } = await renderReport(report);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const texts = svgTexts(svg);
    for (const kill of report.kills) {
      expect(texts.filter((t) => t === kill.process)).toHaveLength(3);
    }
    for (const title of ['requests / s', 'latency (ms, log)', 'errors / s', 'target 50/s']) {
      expect(texts).toContain(title);
    }
    expect(texts).toContain(
      'redis + postgresql · 50 req/s · 2 replicas · 2 min · 2 cpus (AMD EPYC 7B13)',
    );
  });

  it('escapes a hostile process name in its labels', async () => {
    const { svg } = await renderReport(hostileReport());
    expect(svg).not.toContain('<script');
    expect(svgTexts(svg)).toContain(hostile);
  });

  it('renders a ten-minute run well within five seconds', async () => {
    const started = performance.now();
    const { svg } = await renderReport(fakeReport({ seconds: 600, rate: 200 }));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(svgTexts(svg)).toContain('600');
  });
});

describe('a run that sent nothing', () => {
  it('still draws, and says so in words', async () => {
    const report = fakeReport({ killedProcesses: [] });
    Object.assign(report, { timeline: [], durationSeconds: 0, operations: [], outcomes: {} });
    const { svg, html } = await renderReport(report);
    expect(svg).toMatch(/^<svg/);
    expect(html).toContain('<td colspan="6" class="none">none</td>');
    const text = summaryLines(report).join('\n');
    expect(text).toContain('requests     0: none');
    expect(text).toContain('latency      p99 –');
    expect(text).toContain('kills        none');
  });
});

describe('the soak report page', () => {
  it('puts the verdict and its reasons first, and escapes every string', async () => {
    const { html } = await renderReport(hostileReport());
    const verdictAt = html.indexOf('<div class="verdict failed"><strong>FAILED</strong>');
    expect(verdictAt).toBeGreaterThan(0);
    expect(verdictAt).toBeLessThan(html.indexOf('<img'));
    expect(html).toContain('<li>2 orders lost</li>');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('2: ord_1, ord_2');
    expect(html).toMatch(/<pre class="summary">rate +50 req\/s asked/);
  });

  it('needs nothing from the network and holds every table', async () => {
    const { html, svg } = await renderReport(fakeReport());
    expect(html).toContain('PASSED');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain(Buffer.from(svg).toString('base64'));
    const captions = [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(captions).toEqual([
      'Operations',
      'Outcomes',
      'Orders',
      'Invariants: all hold',
      'Dead letters',
      'Restarts',
      'Kills',
      'Notification streams',
      'Options and machine',
    ]);
  });

  it('writes the page, the picture and the same figures as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-report-'));
    try {
      const report = fakeReport();
      const paths = await writeReport(report, join(dir, 'run'));
      expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(report);
      expect(readFileSync(paths.html, 'utf8')).toMatch(/^<!doctype html>/);
      expect(readFileSync(paths.svg, 'utf8')).toMatch(/^<svg/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the soak summary', () => {
  it('says failed with each reason, and the figures a person looks for', () => {
    const lines = summaryLines(hostileReport());
    expect(lines[0]).toMatch(/^SOAK FAILED: redis/);
    expect(lines).toContain('  ✗ 2 orders lost');
    const text = lines.join('\n');
    expect(text).toMatch(/rate +50 req\/s asked, \d+\.\d held/);
    expect(text).toMatch(/orders +\d+ acknowledged, \d+ terminal \(100\.0%\), 2 lost, 0 doubled/);
    expect(text).toContain('kills        3; heal median 4.00 s, max 5.50 s');
    expect(text).toContain('invariants   hold');
    expect(lines.length).toBeLessThanOrEqual(16);
  });
});

describe('the README broker table', () => {
  it('has one row per run under the thirteen columns', () => {
    const broken = fakeReport();
    broken.options.broker = 'kafka|odd';
    broken.invariants = [{ invariant: 3, message: 'stock below zero', ids: ['p1'] }];
    const lines = brokerTable([fakeReport(), broken]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(`| ${tableColumns.join(' | ')} |`);
    const cells = (line: string | undefined) =>
      (line ?? '')
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
    expect(cells(lines[1])).toHaveLength(13);
    expect(cells(lines[2])).toHaveLength(13);
    const row = cells(lines[3]);
    expect(row).toHaveLength(13);
    expect(row[0]).toBe('kafka\\|odd');
    expect(row[9]).toBe('1 violation');
    expect(row[11]).toBe('4.00 s');
    expect(row[8]).toBe('0 / 0 / 0');
    expect(cells(lines[2])[9]).toBe('hold');
    expect(cells(lines[2])[12]).toBe('passed');
  });
});

import { metricsText } from '@shop/platform';

type MetricsSource = Parameters<typeof metricsText>[0];

const labelPair = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Map<string, string> {
  return new Map([...text.matchAll(labelPair)].map(([, name, value]) => [name ?? '', value ?? '']));
}

/**
 * The value of the one series named `name` whose labels are exactly `labels` (besides the
 * registry's own `service`), as the app's metrics listener serves it; undefined when the
 * app exposes no such series.
 *
 * @example
 * expect(await seriesValue(app, 'orders_placed_total', { currency: 'USD' })).toBe(1);
 */
export async function seriesValue(
  app: MetricsSource,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const wanted = Object.entries(labels);
  for (const line of (await metricsText(app)).split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = labelsOf(match[2] ?? '');
    found.delete('service');
    if (found.size === wanted.length && wanted.every(([k, v]) => found.get(k) === v)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

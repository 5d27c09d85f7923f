import { describe, expect, it } from 'vitest';
import { escapeXml, frameTree, renderFlameGraph, shortName } from './flamegraph.ts';

const folded = new Map([
  ['main;work', 60],
  ['main;<anonymous>', 30],
  ['gc', 10],
]);

/** Each box's title (its hover text) and width, as drawn. */
function boxes(svg: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of svg.matchAll(/<title>(.*?) \(.*?<\/title><rect [^>]*width="([\d.]+)"/g))
    found.set(match[1] as string, Number(match[2]));
  return found;
}

describe('frameTree', () => {
  it("gives each frame its own time plus its callees'", () => {
    const root = frameTree(folded);
    expect(root.ms).toBe(100);
    expect(root.children.get('main')?.ms).toBe(90);
    expect(root.children.get('main')?.children.get('work')?.ms).toBe(60);
  });
});

describe('renderFlameGraph', () => {
  it('draws every frame as wide as its share of the whole', () => {
    const drawn = boxes(renderFlameGraph(folded, 'orders'));
    expect(drawn.get('all')).toBe(1180);
    expect(drawn.get('main')).toBeCloseTo(1180 * 0.9, 0);
    expect(drawn.get('work')).toBeCloseTo(1180 * 0.6, 0);
    expect(drawn.get('gc')).toBeCloseTo(1180 * 0.1, 0);
  });

  it('escapes names and leaves out frames too thin to see', () => {
    const svg = renderFlameGraph(new Map([...folded, ['tiny', 0.000_01]]), 'a & b');
    expect(svg).toContain('&lt;anonymous&gt;');
    expect(svg).not.toContain('<anonymous>');
    expect(svg).toContain('a &amp; b: 100 ms sampled');
    expect(boxes(svg).has('tiny')).toBe(false);
    expect(escapeXml('"<&>"')).toBe('&quot;&lt;&amp;&gt;&quot;');
  });

  it('labels a Go frame without its package path, a Node frame as it is', () => {
    expect(shortName('github.com/dapr/dapr/pkg/api/http.(*api).onInvoke')).toBe(
      'http.(*api).onInvoke',
    );
    expect(shortName('dispatch hono/dist/compose.js:24')).toBe('dispatch hono/dist/compose.js:24');
    const svg = renderFlameGraph(new Map([['github.com/go-chi/chi/v5.(*Mux).ServeHTTP', 1]]), 'g');
    expect(svg).toContain('>v5.(*Mux).ServeHTTP</text>');
    expect(svg).toContain('<title>github.com/go-chi/chi/v5.(*Mux).ServeHTTP (');
  });
});

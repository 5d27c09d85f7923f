// A flame graph as a standalone SVG: any browser opens it offline, no script in it. Each
// frame is a box as wide as the time spent in it and below it; callers under callees,
// the roots at the bottom; hovering a box shows its full name, time and share.
import type { Folded } from './fold.ts';

type Frame = { name: string; ms: number; children: Map<string, Frame> };

const width = 1200;
const rowHeight = 16;
const margin = 10;
const titleHeight = 40;
const charWidth = 6.6; // at 11px monospace: how many characters fit in a box

/** The folded stacks as a tree of frames, each with its time including its callees'. */
export function frameTree(folded: Folded): Frame {
  const root: Frame = { name: 'all', ms: 0, children: new Map() };
  for (const [stack, ms] of folded) {
    root.ms += ms;
    let frame = root;
    for (const name of stack.split(';')) {
      let child = frame.children.get(name);
      if (!child) {
        child = { name, ms: 0, children: new Map() };
        frame.children.set(name, child);
      }
      child.ms += ms;
      frame = child;
    }
  }
  return root;
}

function depthOf(frame: Frame): number {
  let deepest = 0;
  for (const child of frame.children.values()) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** A warm colour that stays the same for the same function across graphs. */
function colourOf(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hsl(${10 + (hash % 45)}, ${70 + (hash % 20)}%, ${55 + ((hash >> 8) % 15)}%)`;
}

/** What a box has room for: a Go frame without its package path (the tooltip keeps it). */
export function shortName(name: string): string {
  return name.includes(' ') ? name : name.slice(name.lastIndexOf('/') + 1);
}

function box(frame: Frame, x: number, y: number, w: number, total: number): string {
  const share = ((frame.ms / total) * 100).toFixed(2);
  const tip = escapeXml(`${frame.name} (${frame.ms.toFixed(1)} ms, ${share}%)`);
  const fits = Math.floor((w - 4) / charWidth);
  const clip = (text: string, room: number) =>
    text.length > room ? `${text.slice(0, room - 2)}..` : text;
  const label =
    fits >= 3
      ? `<text x="${(x + 2).toFixed(1)}" y="${y + rowHeight - 4}">${escapeXml(clip(shortName(frame.name), fits))}</text>`
      : '';
  return `<g><title>${tip}</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="${colourOf(frame.name)}"/>${label}</g>`;
}

/** The SVG of `folded`, titled; boxes under 0.1 px wide are left out. */
export function renderFlameGraph(folded: Folded, title: string): string {
  const root = frameTree(folded);
  const depth = depthOf(root);
  const height = titleHeight + depth * rowHeight + margin;
  const scale = root.ms > 0 ? (width - 2 * margin) / root.ms : 0;
  const boxes: string[] = [];
  const draw = (frame: Frame, x: number, level: number) => {
    const w = frame.ms * scale;
    if (w < 0.1) return;
    boxes.push(box(frame, x, height - margin - (level + 1) * rowHeight, w, root.ms));
    let childX = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, childX, level + 1);
      childX += child.ms * scale;
    }
  };
  draw(root, margin, 0);
  const heading = `${title}: ${root.ms.toFixed(0)} ms sampled`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fdfdf8"/>`,
    `<text x="${margin}" y="24" font-size="15">${escapeXml(heading)}</text>`,
    ...boxes,
    '</svg>',
    '',
  ].join('\n');
}

// Folded stacks: every distinct call stack of a profile, root first, with the CPU time
// spent with it on top. V8's .cpuprofile and pprof's traces both fold to this, so one
// renderer draws both and one ranking finds both's hottest functions.

/** "root;caller;callee" -> milliseconds spent with exactly that stack. */
export type Folded = Map<string, number>;

/** What V8's inspector (Profiler.stop) and `--cpu-prof` write. */
export type CpuProfile = {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
};

// V8's pseudo-frame for a thread with nothing to run: not CPU spent.
const idleFrame = '(idle)';

/** A frame's label: its function and where it is defined, without the ';' folding uses. */
export function frameLabel(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name.replaceAll(';', ',');
  // The last three path segments say whose file it is (orders/src/x.ts, platform/src/x.ts,
  // pg/lib/x.js); the rest is noise.
  const where = frame.url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-3)
    .join('/');
  return `${name} ${where}:${frame.lineNumber + 1}`.replaceAll(';', ',');
}

/** Each sample's duration in ms: the gap to the next sample (the last one, the profile's end). */
function sampleDurations(profile: CpuProfile): number[] {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  const times = samples.map((_, i) => {
    at += deltas[i] ?? 0;
    return at;
  });
  return times.map((time, i) => ((times[i + 1] ?? profile.endTime) - time) / 1000);
}

/** The profile folded, idle time left out. */
export function foldCpuProfile(profile: CpuProfile): Folded {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = new Map<number, string | undefined>();
  const stack = (id: number): string | undefined => {
    if (stackOf.has(id)) return stackOf.get(id);
    const node = byId.get(id);
    const up = parent.get(id);
    let folded: string | undefined;
    // V8's "(root)" frame is every stack's base: it says nothing, so it is dropped.
    if (node && node.callFrame.functionName !== idleFrame && up !== undefined) {
      const above = stack(up);
      folded =
        above === undefined ? frameLabel(node.callFrame) : `${above};${frameLabel(node.callFrame)}`;
    }
    stackOf.set(id, folded);
    return folded;
  };
  const folded: Folded = new Map();
  const durations = sampleDurations(profile);
  (profile.samples ?? []).forEach((id, i) => {
    const key = stack(id);
    if (key !== undefined) folded.set(key, (folded.get(key) ?? 0) + Math.max(0, durations[i] ?? 0));
  });
  return folded;
}

/** The `count` functions with the most time of their own (the top frame of their stacks). */
export function topSelf(folded: Folded, count: number): Array<{ name: string; ms: number }> {
  const self = new Map<string, number>();
  for (const [stack, ms] of folded) {
    const leaf = stack.slice(stack.lastIndexOf(';') + 1);
    self.set(leaf, (self.get(leaf) ?? 0) + ms);
  }
  return [...self]
    .map(([name, ms]) => ({ name, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

/** Every stack's time summed. */
export function totalMs(folded: Folded): number {
  let sum = 0;
  for (const ms of folded.values()) sum += ms;
  return sum;
}

/** The folded-stacks text other flame graph tools read: "a;b;c <microseconds>" per line. */
export function foldedText(folded: Folded): string {
  return [...folded].map(([stack, ms]) => `${stack} ${Math.round(ms * 1000)}`).join('\n');
}

/**
 * The `count` hottest functions by self time, each as a share of all sampled time. A V8
 * sample lasts until the next one, so on a busy machine a thread waiting for a core counts
 * too: shares are sound where milliseconds are not, and /proc says the process's CPU.
 */
export function topSelfShares(
  folded: Folded,
  count: number,
): Array<{ name: string; share: number }> {
  const total = totalMs(folded);
  return topSelf(folded, count).map(({ name, ms }) => ({
    name,
    share: total > 0 ? ms / total : 0,
  }));
}

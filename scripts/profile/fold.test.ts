import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import {
  type CpuProfile,
  foldCpuProfile,
  foldedText,
  frameLabel,
  topSelf,
  topSelfShares,
  totalMs,
} from './fold.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

// (root) -> main -> work, and (idle); four samples 1 ms apart.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4] },
    { id: 2, callFrame: frame('main'), children: [3] },
    { id: 3, callFrame: frame('work', 'file:///repo/services/orders/src/work.ts', 9) },
    { id: 4, callFrame: frame('(idle)') },
  ],
  startTime: 0,
  endTime: 4_000,
  samples: [3, 3, 2, 4],
  timeDeltas: [0, 1_000, 1_000, 1_000],
};

/** Busy for `ms`, in arithmetic of its own, so the profiler finds it on top. */
function spinForProfile(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

describe('foldCpuProfile', () => {
  it('folds each sample to its stack, root first, without (root) and idle time', () => {
    expect(foldCpuProfile(profile)).toEqual(
      new Map([
        ['main;work orders/src/work.ts:10', 2],
        ['main', 1],
      ]),
    );
  });

  it('labels a frame by function and file, keeping ";" out of labels', () => {
    expect(frameLabel(frame('', 'file:///a/b/c.js', 0))).toBe('(anonymous) a/b/c.js:1');
    expect(frameLabel(frame('a;b'))).toBe('a,b');
  });

  it('ranks functions by their own time and sums every stack', () => {
    const folded = foldCpuProfile(profile);
    expect(topSelf(folded, 1)).toEqual([{ name: 'work orders/src/work.ts:10', ms: 2 }]);
    expect(totalMs(folded)).toBe(3);
    expect(foldedText(folded)).toBe('main;work orders/src/work.ts:10 2000\nmain 1000');
  });

  it('gives the hottest functions as shares of all sampled time', () => {
    expect(topSelfShares(foldCpuProfile(profile), 5)).toEqual([
      { name: 'work orders/src/work.ts:10', share: 2 / 3 },
      { name: 'main', share: 1 / 3 },
    ]);
    expect(topSelfShares(new Map(), 5)).toEqual([]);
  });

  it("finds a busy function on top of a real profile of this process's V8", async () => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    spinForProfile(300);
    const { profile: real } = await session.post('Profiler.stop');
    session.disconnect();
    const folded = foldCpuProfile(real as CpuProfile);
    expect(topSelf(folded, 1)[0]?.name).toMatch(
      /^spinForProfile scripts\/profile\/fold\.test\.ts:\d+$/,
    );
    expect(totalMs(folded)).toBeGreaterThan(100);
  });
});

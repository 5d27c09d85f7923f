import { describe, expect, it } from 'vitest';
import { foldPprofTraces, parseDuration } from './pprof.ts';

// The shape of `go tool pprof -traces`: a header, then each sample's stack leaf first,
// its value on the first line, its labels (if any) before it.
const traces = `File: daprd
Type: cpu
Duration: 12s, Total samples = 60ms ( 0.5%)
-----------+-------------------------------------------------------
      10ms   runtime.futex
             runtime.futexsleep
             runtime.main
-----------+-------------------------------------------------------
   handler:  invoke
     1.20s   syscall.Syscall (inline)
             net/http.(*conn).serve
-----------+-------------------------------------------------------
      40ms   runtime.futex
             runtime.futexsleep
             runtime.main
-----------+-------------------------------------------------------
`;

describe('foldPprofTraces', () => {
  it('folds every sample root first, summing equal stacks, skipping header and labels', () => {
    expect(foldPprofTraces(traces)).toEqual(
      new Map([
        ['runtime.main;runtime.futexsleep;runtime.futex', 50],
        ['net/http.(*conn).serve;syscall.Syscall', 1_200],
      ]),
    );
  });

  it('reads nothing from output without samples', () => {
    expect(foldPprofTraces('File: daprd\nType: cpu\n')).toEqual(new Map());
  });
});

describe('parseDuration', () => {
  it("reads pprof's scaled units in milliseconds", () => {
    expect(parseDuration('10ms')).toBe(10);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('250us')).toBe(0.25);
    expect(parseDuration('2mins')).toBe(120_000);
  });

  it('refuses what is not a duration', () => {
    expect(() => parseDuration('10 apples')).toThrow(/not a pprof duration/);
  });
});

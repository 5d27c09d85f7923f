// daprd's CPU profile, from the pprof server it runs with --enable-profiling, folded with
// Go's own pprof (`go tool pprof -traces`: every sample's stack, leaf first).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Folded } from './fold.ts';

const separator = /^-+\+-+$/;
// "      10ms   runtime.futex": the value (on a stack's first line only), then a frame.
const frameLine = /^(.{10}) {3}(.+?)( \(inline\))?$/;
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  min: 60e3,
  mins: 60e3,
  hr: 3600e3,
  hrs: 3600e3,
};

/** pprof's scaled time ("10ms", "1.20s", "500us") in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^([\d.]+)([a-zµ]+)$/.exec(text.trim());
  const scale = match ? unitMs[match[2] as string] : undefined;
  if (!match || scale === undefined) throw new Error(`not a pprof duration: "${text}"`);
  return Number(match[1]) * scale;
}

/** `go tool pprof -traces` output, folded root first; label lines and the header are skipped. */
export function foldPprofTraces(text: string): Folded {
  const folded: Folded = new Map();
  let frames: string[] = [];
  let ms = 0;
  const flush = () => {
    if (frames.length > 0) {
      const stack = frames.reverse().join(';');
      folded.set(stack, (folded.get(stack) ?? 0) + ms);
    }
    frames = [];
    ms = 0;
  };
  let inSamples = false;
  for (const line of text.split('\n')) {
    if (separator.test(line)) {
      flush();
      inSamples = true;
      continue;
    }
    const match = inSamples ? frameLine.exec(line) : null;
    if (!match) continue;
    const value = (match[1] as string).trim();
    if (value) ms = parseDuration(value);
    frames.push((match[2] as string).replaceAll(';', ','));
  }
  flush();
  return folded;
}

/**
 * Asks daprd's pprof server for `seconds` of CPU profile and keeps it at `file` (the
 * gzipped profile.proto that `go tool pprof` and speedscope open).
 */
export async function recordPprof(port: number, seconds: number, file: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/debug/pprof/profile?seconds=${seconds}`, {
    signal: AbortSignal.timeout((seconds + 30) * 1000),
  });
  if (!res.ok) throw new Error(`daprd's pprof on port ${port} answered ${res.status}`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
}

/** The profile at `file`, folded by Go's pprof. */
export function foldPprofFile(file: string): Promise<Folded> {
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      ['tool', 'pprof', '-traces', file],
      { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`go tool pprof -traces ${file} failed: ${stderr}`));
        else resolve(foldPprofTraces(stdout));
      },
    );
  });
}

// vegeta at a constant arrival rate, fed target by target as it asks (-lazy) and read result
// by result as they come back, so the soak can act on answers (cancel an acknowledged order,
// send a refused checkout again) while the load runs.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { VegetaTarget } from './mix.ts';

/** One answered (or failed) request, as `vegeta encode --to json` writes it. */
export type VegetaResult = {
  seq: number;
  code: number;
  /** When the request left, RFC 3339 with nanoseconds. */
  timestamp: string;
  /** Nanoseconds. */
  latency: number;
  error: string;
  /** The answer's first bytes, base64. */
  body: string;
  method: string;
  url: string;
};

export type VegetaRun = {
  results: AsyncIterable<VegetaResult>;
  /** Settles once vegeta has sent its last request and every result was read. */
  finished: Promise<void>;
};

/**
 * `vegeta attack | vegeta encode`: `rate` requests a second for `seconds`, each target drawn
 * from `nextTarget` the moment vegeta needs it. Load only ever goes to loopback.
 */
export function attack(
  binary: string,
  options: { rate: number; seconds: number; timeoutSeconds: number },
  nextTarget: () => VegetaTarget,
): VegetaRun {
  const attacker = spawn(
    binary,
    [
      'attack',
      '-lazy',
      '-format=json',
      `-rate=${options.rate}/1s`,
      `-duration=${options.seconds}s`,
      `-timeout=${options.timeoutSeconds}s`,
      // An order's id is in the first bytes of its answer; nothing else is read.
      '-max-body=2048',
      '-http2=false',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const encoder = spawn(binary, ['encode', '--to', 'json'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  attacker.stdout.pipe(encoder.stdin);
  const targets = Readable.from(
    (function* () {
      for (;;) yield `${JSON.stringify(nextTarget())}\n`;
    })(),
    // A few targets ahead only, so a choice (which order to cancel) is made close to its send.
    { objectMode: true, highWaterMark: 4 },
  );
  targets.pipe(attacker.stdin);
  // vegeta closes its input when the duration is over; the pipe may then be broken.
  attacker.stdin.on('error', () => targets.destroy());
  const exited = (child: typeof attacker, name: string) =>
    new Promise<void>((resolve, reject) =>
      child.once('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`vegeta ${name} exited with ${code ?? signal}`)),
      ),
    );
  const lines = createInterface({ input: encoder.stdout });
  return {
    results: (async function* () {
      for await (const line of lines) yield JSON.parse(line) as VegetaResult;
    })(),
    finished: Promise.all([exited(attacker, 'attack'), exited(encoder, 'encode')]).then(() => {
      targets.destroy();
    }),
  };
}

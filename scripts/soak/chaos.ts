// Random kill -9 of the shop's processes while the load runs, each recorded with its time;
// the supervisor's healing brings every one back, and the report says how long that took.
import type { ProcessGroup } from '@shop/devkit/process';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export type ChaosKill = { atMs: number; process: string };

/**
 * Every `everyMs` from `loadStartedAt`, one running process of `group` drawn at random (a
 * service, a sidecar, the broker, a database, the mail server) is killed with SIGKILL. The
 * kill at the middle of the run (`brokerKillAt`, counted from 1) is always the broker's, so
 * that every profile's run includes a broker restart, whatever the draw.
 */
export function startChaos(
  group: ProcessGroup,
  options: {
    everyMs: number;
    seed: number;
    loadStartedAt: number;
    /** The broker's process, and which kill is its. */
    broker: { processNames: string[]; killAt: number };
    log: (line: string) => void;
  },
) {
  const rng = xoroshiro128plus(options.seed);
  const kills: ChaosKill[] = [];
  const restarts: Array<{ name: string; at: number }> = [];
  group.onRestart((event) => restarts.push(event));
  const timer = setInterval(() => {
    const running = group.names().sort();
    const brokers = options.broker.processNames.filter((name) => running.includes(name));
    const candidates =
      kills.length + 1 === options.broker.killAt && brokers.length > 0 ? brokers : running;
    const victim = candidates[uniformInt(rng, 0, candidates.length - 1)];
    if (!victim) return;
    const atMs = Date.now() - options.loadStartedAt;
    group.crash(victim);
    kills.push({ atMs, process: victim });
    options.log(`soak: ${(atMs / 1000).toFixed(0)} s: kill -9 ${victim}`);
  }, options.everyMs);
  return {
    kills,
    /** From each kill until its process was started again; null if it was not. */
    restartedAfterMs(kill: ChaosKill): number | null {
      const at = options.loadStartedAt + kill.atMs;
      const restart = restarts.find((r) => r.name === kill.process && r.at >= at);
      return restart ? restart.at - at : null;
    },
    stop: () => clearInterval(timer),
  };
}

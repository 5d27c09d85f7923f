/**
 * How a healing process group restarts a child that died, after Kubernetes'
 * CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min up) scaled for a laptop: a
 * shop on two cores should be back within seconds, and a developer should hear of a
 * broken child within a minute rather than after hours of quiet retries.
 */
export type RestartPolicy = {
  /** The wait before the first restart; each quick exit after it doubles the wait. */
  initialDelayMs: number;
  /** The longest wait between restarts. */
  maxDelayMs: number;
  /** A run this long counts as healthy: the next exit starts the count (and waits) over. */
  stableAfterMs: number;
  /**
   * This many quick exits in a row (each run shorter than stableAfterMs) is a crash loop:
   * the shop stops with the reason instead of retrying for ever. With the defaults the
   * eighth quick exit comes after ~45 s of waits (0.5+1+2+4+8+15+15 s) plus the runs.
   */
  crashLoopLimit: number;
};

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  stableAfterMs: 60_000,
  crashLoopLimit: 8,
};

/** A child's record of quick exits in a row, kept across its restarts. */
export type RestartHistory = { quickExits: number };

export type RestartDecision =
  | { action: 'restart'; attempt: number; delayMs: number }
  | { action: 'give-up'; quickExits: number };

/** The wait before restart number `attempt` (1-based) of a run of quick exits. */
export function backoffDelay(policy: RestartPolicy, attempt: number): number {
  const doubled = policy.initialDelayMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(doubled, policy.maxDelayMs);
}

/**
 * What to do about a child that exited after running `ranForMs`: restart it after a wait,
 * or give up when it has crash-looped. Returns the history to keep for its next exit.
 */
export function decideRestart(
  policy: RestartPolicy,
  history: RestartHistory,
  ranForMs: number,
): { decision: RestartDecision; history: RestartHistory } {
  const quickExits = ranForMs >= policy.stableAfterMs ? 1 : history.quickExits + 1;
  if (quickExits >= policy.crashLoopLimit) {
    return { decision: { action: 'give-up', quickExits }, history: { quickExits } };
  }
  const delayMs = backoffDelay(policy, quickExits);
  return { decision: { action: 'restart', attempt: quickExits, delayMs }, history: { quickExits } };
}

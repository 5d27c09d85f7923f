import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decideRestart,
  defaultRestartPolicy as policy,
  type RestartHistory,
} from './restart-policy.ts';

describe('the restart policy', () => {
  it('doubles the wait from 0.5 s and caps it at 15 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(policy, attempt));
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it('gives up on the eighth quick exit in a row, having restarted seven times', () => {
    let history: RestartHistory = { quickExits: 0 };
    const actions: string[] = [];
    for (let exit = 1; exit <= 8; exit++) {
      const next = decideRestart(policy, history, 2_000);
      history = next.history;
      actions.push(next.decision.action);
    }
    expect(actions).toEqual([...Array(7).fill('restart'), 'give-up']);
    expect(history.quickExits).toBe(8);
  });

  it('starts the count over after a run that stayed up 60 s', () => {
    const looping: RestartHistory = { quickExits: 6 };
    const { decision, history } = decideRestart(policy, looping, 60_000);
    expect(decision).toEqual({ action: 'restart', attempt: 1, delayMs: 500 });
    expect(history.quickExits).toBe(1);
  });

  it('keeps counting after a run just short of stable', () => {
    const { decision } = decideRestart(policy, { quickExits: 2 }, 59_999);
    expect(decision).toEqual({ action: 'restart', attempt: 3, delayMs: 2_000 });
  });

  it('honours its own numbers', () => {
    const strict = { ...policy, crashLoopLimit: 2, initialDelayMs: 100, maxDelayMs: 150 };
    expect(decideRestart(strict, { quickExits: 0 }, 10).decision).toEqual({
      action: 'restart',
      attempt: 1,
      delayMs: 100,
    });
    expect(decideRestart(strict, { quickExits: 1 }, 10).decision).toEqual({
      action: 'give-up',
      quickExits: 2,
    });
  });
});

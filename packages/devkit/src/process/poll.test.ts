import { describe, expect, it } from 'vitest';
import { pollUntil } from './poll.ts';

describe('pollUntil', () => {
  it('returns the first value that is not undefined', async () => {
    let calls = 0;
    const value = await pollUntil(() => (++calls >= 3 ? calls : undefined), {
      what: 'three calls',
      timeoutMs: 5_000,
      intervalMs: 1,
    });
    expect(value).toBe(3);
  });

  it('treats a thrown error as not yet, and names the last one on timeout', async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('connection refused');
        },
        { what: 'the server', timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow('timed out after 30 ms waiting for the server: connection refused');
  });

  it('accepts falsy values other than undefined', async () => {
    await expect(pollUntil(() => false, { what: 'x', timeoutMs: 10 })).resolves.toBe(false);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = pollUntil(() => undefined, {
      what: 'never',
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('gives up at once with the reason giveUpIf names', async () => {
    let calls = 0;
    const waiting = pollUntil(() => undefined, {
      what: 'the server',
      timeoutMs: 60_000,
      intervalMs: 1,
      giveUpIf: () => (++calls > 2 ? 'the server exited' : undefined),
    });
    await expect(waiting).rejects.toThrow('the server exited');
  });
});

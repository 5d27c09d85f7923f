import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Names what is awaited, for the timeout message. */
  what: string;
  timeoutMs: number;
  /** Pause between probes; 100 ms unless given. */
  intervalMs?: number;
  /** Stops the wait early, rejecting with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Asked before each probe: a reason to give up at once (the process being waited for
   * exited), thrown as the error; undefined to go on.
   */
  giveUpIf?: () => string | undefined;
}

/**
 * Calls `probe` until it returns something other than `undefined`, and returns that. A
 * thrown error counts as "not yet"; the last one is named in the timeout error, because it
 * usually says why the thing never came.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const { what, timeoutMs, intervalMs = 100, signal, giveUpIf } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    const reason = giveUpIf?.();
    if (reason !== undefined) throw new Error(reason);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left), undefined, { signal }).catch(() => {
      signal?.throwIfAborted();
    });
  }
  const cause = lastError === undefined ? '' : `: ${errorMessage(lastError)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, {
    cause: lastError,
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

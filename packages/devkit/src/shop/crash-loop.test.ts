import { describe, expect, it } from 'vitest';
import { describeCrashLoop } from './shop.ts';

describe('a crash loop, as the console shows it', () => {
  it('names the process, the count, how it last ended and its last lines', () => {
    const text = describeCrashLoop({
      name: 'postgres',
      exit: { name: 'postgres', code: 1, signal: null },
      quickExits: 8,
      lastLines: ['FATAL:  could not map anonymous shared memory'],
    });
    expect(text).toBe(
      'shop: postgres is crash-looping: 8 exits in a row, the last: code 1; its last lines:\n' +
        'FATAL:  could not map anonymous shared memory\nshop: stopping everything',
    );
  });

  it('says so when the process wrote nothing, and names a signal', () => {
    const text = describeCrashLoop({
      name: 'orders-dapr',
      exit: { name: 'orders-dapr', code: null, signal: 'SIGKILL' },
      quickExits: 8,
      lastLines: [],
    });
    expect(text).toContain('the last: signal SIGKILL; its last lines:\n(none)');
  });
});

import { describe, expect, it } from 'vitest';
import { requestIdFrom, traceFrom } from './request-ids.ts';

describe('traceFrom', () => {
  it('keeps a valid traceparent', () => {
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceFrom(header)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      traceparent: header,
    });
  });

  it.each([undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'])(
    'starts a new trace for %s',
    (header) => {
      const { traceId, traceparent } = traceFrom(header);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(traceparent).toBe(`00-${traceId}-${traceparent.slice(36, 52)}-01`);
    },
  );
});

describe('requestIdFrom', () => {
  it('accepts up to 128 safe characters', () => {
    expect(requestIdFrom('a'.repeat(128))).toBe('a'.repeat(128));
    expect(requestIdFrom('a'.repeat(129))).not.toBe('a'.repeat(129));
  });
});

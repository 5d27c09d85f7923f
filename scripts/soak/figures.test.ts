import { describe, expect, it } from 'vitest';
import {
  affectedOperations,
  healOf,
  operationFigures,
  outcomeOf,
  percentiles,
  type Sent,
  timeline,
} from './figures.ts';

const sent = (at: number, ok: boolean, op = 'browse', latencyMs = 10): Sent => ({
  op,
  at,
  latencyMs,
  code: ok ? 200 : 503,
  error: '',
  ok,
});

describe('the soak figures', () => {
  it('takes percentiles from the sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values)).toEqual({ p50Ms: 51, p90Ms: 91, p99Ms: 100, maxMs: 100 });
    expect(percentiles([])).toEqual({ p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
  });

  it('names an unanswered request by what went wrong', () => {
    expect(outcomeOf({ code: 0, error: 'Post "x": dial tcp: connect: connection refused' })).toBe(
      'error:connection refused',
    );
    expect(outcomeOf({ code: 0, error: 'context deadline exceeded (Client.Timeout)' })).toBe(
      'error:timeout',
    );
    expect(outcomeOf({ code: 503, error: '' })).toBe('503');
  });

  it('counts each second by when its requests left, and each operation apart', () => {
    const all = [sent(100, true), sent(900, false), sent(1_500, true, 'cart')];
    expect(timeline(all, 2).map((s) => [s.sent, s.ok, s.errors])).toEqual([
      [2, 1, 1],
      [1, 1, 0],
    ]);
    expect(operationFigures(all).map((o) => [o.name, o.requests, o.errors])).toEqual([
      ['browse', 2, 1],
      ['cart', 1, 0],
    ]);
  });

  it('lets a kill of the gateway or of infrastructure affect every operation', () => {
    const apps = ['gateway', 'catalog', 'orders', 'payments'];
    const ops = ['browse', 'checkout', 'cancel'];
    expect(affectedOperations('gateway-2-dapr', apps, ops)).toEqual(ops);
    expect(affectedOperations('postgres', apps, ops)).toEqual(ops);
    expect(affectedOperations('orders-2', apps, ops)).toEqual(['checkout', 'cancel']);
    expect(affectedOperations('payments-dapr', apps, ops)).toEqual([]);
  });

  it('measures healing from the first failure to the first success after the last one', () => {
    const all = [
      sent(900, true),
      sent(1_000, false),
      sent(1_200, true),
      sent(1_500, false),
      sent(2_100, true),
    ];
    expect(healOf({ atMs: 950, untilMs: 10_000, affected: ['browse'] }, all)).toEqual({
      firstErrorSecond: 1,
      healMs: 1_100,
    });
    expect(healOf({ atMs: 950, untilMs: 10_000, affected: ['cart'] }, all)).toEqual({
      firstErrorSecond: null,
      healMs: null,
    });
    expect(healOf({ atMs: 950, untilMs: 1_400, affected: ['browse'] }, all).healMs).toBe(200);
    expect(
      healOf({ atMs: 950, untilMs: 10_000, affected: ['browse'] }, all.slice(0, 4)).healMs,
    ).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { createLifecycle } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { manualClock } from './testdata/manual-clock.ts';

function recorded() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    write: (line) => void lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

describe('a service lifecycle', () => {
  it('stops jobs first, then closes resources in the reverse order of their declaration', async () => {
    const { logger } = recorded();
    const lifecycle = createLifecycle(logger);
    const order: string[] = [];
    lifecycle.closes('database', { close: async () => void order.push('database') });
    lifecycle.closes('relay', { stop: async () => void order.push('relay') });
    let finishJob: () => void = () => {};
    lifecycle.every('slow job', 60_000, async () => {
      await new Promise<void>((resolve) => {
        finishJob = resolve;
      });
      order.push('job finished');
    });
    const closed = lifecycle.close();
    finishJob();
    await closed;
    expect(order).toEqual(['job finished', 'relay', 'database']);
  });

  it('runs a job at once and again after each interval, logging a failure and going on', async () => {
    const { logger, lines } = recorded();
    const clock = manualClock();
    const lifecycle = createLifecycle(logger, clock);
    let runs = 0;
    lifecycle.every('flaky job', 10, async () => {
      runs++;
      if (runs === 1) throw new Error('first run fails');
    });
    expect(await clock.sleeping()).toBe(10);
    expect(runs).toBe(1);
    clock.advance(9);
    expect(runs).toBe(1);
    clock.advance(1);
    await clock.sleeping();
    expect(runs).toBe(2);
    await lifecycle.close();
    clock.advance(60_000);
    await new Promise(setImmediate);
    expect(runs).toBe(2);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'job failed; it runs again later', job: 'flaky job' }),
    );
  });

  it('closes every resource even when one fails, and says which', async () => {
    const { logger, lines } = recorded();
    const lifecycle = createLifecycle(logger);
    const closed: string[] = [];
    lifecycle.closes('first', { close: () => void closed.push('first') });
    lifecycle.closes('broken', {
      close: () => {
        throw new Error('cannot close');
      },
    });
    await lifecycle.close();
    expect(closed).toEqual(['first']);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'closing failed', resource: 'broken' }),
    );
  });

  it('ends what must end before the drain, all at once, a failure logged and the rest still ended', async () => {
    const { logger, lines } = recorded();
    const lifecycle = createLifecycle(logger);
    const ended: string[] = [];
    lifecycle.endsBeforeDrain('streams', async () => void ended.push('streams'));
    lifecycle.endsBeforeDrain('broken', () => {
      throw new Error('boom');
    });
    lifecycle.endsBeforeDrain('sockets', () => void ended.push('sockets'));
    lifecycle.closes('database', { close: () => void ended.push('database') });
    await lifecycle.beginDrain();
    expect(ended.sort()).toEqual(['sockets', 'streams']);
    expect(lines).toContainEqual(expect.objectContaining({ resource: 'broken' }));
  });
});

import { seriesValue } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServiceApp } from '../http/app.ts';
import { createLogger } from '../logger.ts';
import { buildEvent } from './cloud-event.ts';
import { type ConsumedEvents, createMemoryDeadLetterStore, defineConsumer } from './consumer.ts';
import type { EventCatalog } from './schemas.ts';

const catalog = {
  'test.greeted': { current: 1, versions: { 1: z.object({ name: z.string() }) } },
} as const satisfies EventCatalog;
const appApiToken = 'consumer-metrics-token-0123';

/** A service app consuming test.greeted: a name of "fail" throws, anything else succeeds. */
function greetingApp() {
  const app = createServiceApp({
    service: 'greeter',
    logger: createLogger({ service: 'greeter', write: () => {} }),
    appApiToken,
  });
  const consumes = { 'test.greeted': [1] } as const satisfies ConsumedEvents<typeof catalog>;
  const definition = defineConsumer({
    catalog,
    consumes,
    handlers: {
      'test.greeted': async (event) => {
        if (event.data.name === 'fail') throw new Error('the handler failed');
        return 'SUCCESS';
      },
    },
  });
  app.consumeEvents({ definition, deadLetters: createMemoryDeadLetterStore() });
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': appApiToken },
      body: JSON.stringify(body),
    });
    return ((await res.json()) as { status: string }).status;
  };
  return { app, post };
}

const greeted = (name: unknown) =>
  buildEvent('test.greeted', { name } as { name: string }, { source: 'test', catalog });

describe('the event consumer metrics', () => {
  it('counts each delivery by type and outcome, and a type it does not consume as unknown', async () => {
    const { app, post } = greetingApp();
    expect(await post('/events/test.greeted', greeted('Ada'))).toBe('SUCCESS');
    expect(await post('/events/test.greeted', greeted('Grace'))).toBe('SUCCESS');
    expect(await post('/events/test.greeted', greeted('fail'))).toBe('RETRY');
    expect(await post('/events/test.greeted', { ...greeted('x'), data: { name: 7 } })).toBe('DROP');
    expect(await post('/events/test.greeted', { type: 'made.up', id: 'x' })).toBe('DROP');
    const handled = (type: string, outcome: string) =>
      seriesValue(app, 'events_handled_total', { type, outcome });
    expect(await handled('test.greeted', 'success')).toBe(2);
    expect(await handled('test.greeted', 'retry')).toBe(1);
    expect(await handled('test.greeted', 'drop')).toBe(1);
    expect(await handled('unknown', 'drop')).toBe(1);
    expect(await handled('made.up', 'drop')).toBeUndefined();
  });

  it('counts what Dapr dead-letters, by type', async () => {
    const { app, post } = greetingApp();
    expect(await post('/dead-letters', greeted('Ada'))).toBe('SUCCESS');
    expect(await post('/dead-letters', { type: 'made.up', id: 'y' })).toBe('SUCCESS');
    const dead = (type: string) => seriesValue(app, 'events_dead_lettered_total', { type });
    expect(await dead('test.greeted')).toBe(1);
    expect(await dead('unknown')).toBe(1);
  });
});

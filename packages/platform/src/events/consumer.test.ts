import { Hono } from 'hono';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logger.ts';
import { buildEvent, type ReceivedEvent } from './cloud-event.ts';
import {
  type ConsumedEvents,
  createEventConsumer,
  createMemoryDeadLetterStore,
  type Delivery,
  defineConsumer,
} from './consumer.ts';
import type { EventCatalog } from './schemas.ts';

// One event type at two versions: v2 split the name. The shop's catalog has no second
// version yet, so these tests bring their own.
const greeted = {
  v1: z.object({ name: z.string() }),
  v2: z.object({ givenName: z.string(), familyName: z.string() }),
};
const catalogBefore = {
  'test.greeted': { current: 1, versions: { 1: greeted.v1 } },
} as const satisfies EventCatalog;
const catalog = {
  'test.greeted': { current: 2, versions: { 1: greeted.v1, 2: greeted.v2 } },
  'test.waved': { current: 1, versions: { 1: z.object({ hand: z.enum(['left', 'right']) }) } },
} as const satisfies EventCatalog;
type TestCatalog = typeof catalog;

const sentByOldProducer = () =>
  buildEvent('test.greeted', { name: 'Ada Lovelace' }, { source: 'old', catalog: catalogBefore });
const sentByNewProducer = () =>
  buildEvent(
    'test.greeted',
    { givenName: 'Ada', familyName: 'Lovelace' },
    { source: 'new', catalog },
  );

const accept = async (): Promise<Delivery> => 'SUCCESS';

function consumerOf(definition: Parameters<typeof createEventConsumer>[0]['definition']) {
  const logs: { message: string; reason?: string }[] = [];
  const logger = createLogger({
    service: 'test',
    write: (line) => void logs.push(JSON.parse(line)),
  });
  const deadLetters = createMemoryDeadLetterStore();
  const app = new Hono().route(
    '/',
    createEventConsumer({ appId: 'test', logger, deadLetters, definition }),
  );
  const deliver = async (event: unknown, route = 'test.greeted') => {
    const res = await app.request(`/events/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    return ((await res.json()) as { status: string }).status;
  };
  return { deliver, logs };
}

function greetingConsumer() {
  const received: string[] = [];
  const consumes = { 'test.greeted': [1, 2] } as const satisfies ConsumedEvents<TestCatalog>;
  const definition = defineConsumer({
    catalog,
    consumes,
    handlers: {
      'test.greeted': async (event) => {
        expectTypeOf(event).toEqualTypeOf<ReceivedEvent<'test.greeted', 1 | 2, TestCatalog>>();
        if (event.version === 1) received.push(`v1 ${event.data.name}`);
        else received.push(`v2 ${event.data.givenName} ${event.data.familyName}`);
        return 'SUCCESS';
      },
    },
  });
  return { ...consumerOf(definition), received };
}

describe('event versions', () => {
  it('publishes the current version and names it in dataschema', () => {
    expect(sentByOldProducer().dataschema).toBe('urn:shop:events:test.greeted:v1');
    expect(sentByNewProducer().dataschema).toBe('urn:shop:events:test.greeted:v2');
    const shopEvent = buildEvent(
      'user.registered',
      {
        userId: 'u-1',
        email: 'ada@example.com',
        name: 'Ada',
        registeredAt: new Date().toISOString(),
      },
      { source: 'users' },
    );
    expect(shopEvent.dataschema).toBe('urn:shop:events:user.registered:v1');
  });

  it('hands one consumer a v1 and a v2 of the same type, each typed by its version', async () => {
    const { deliver, received } = greetingConsumer();
    expect(await deliver(sentByOldProducer())).toBe('SUCCESS');
    expect(await deliver(sentByNewProducer())).toBe('SUCCESS');
    expect(received).toEqual(['v1 Ada Lovelace', 'v2 Ada Lovelace']);
  });

  it('keeps dataschema and time as they were sent', async () => {
    const seen: unknown[] = [];
    const definition = defineConsumer({
      catalog,
      consumes: { 'test.greeted': [1] },
      handlers: {
        'test.greeted': async (event) => {
          seen.push(event);
          return 'SUCCESS';
        },
      },
    });
    const { deliver } = consumerOf(definition);
    const sent = buildEvent(
      'test.greeted',
      { name: 'Ada' },
      {
        source: 'old',
        catalog: catalogBefore,
        time: new Date('2020-01-02T03:04:05.000Z'),
      },
    );
    expect(await deliver(sent)).toBe('SUCCESS');
    expect(seen).toEqual([{ ...sent, version: 1 }]);
  });
});

describe('event versions a consumer drops', () => {
  it('drops a version the consumer does not accept, saying why', async () => {
    const definition = defineConsumer({
      catalog,
      consumes: { 'test.greeted': [1] },
      handlers: { 'test.greeted': accept },
    });
    const { deliver, logs } = consumerOf(definition);
    expect(await deliver(sentByNewProducer())).toBe('DROP');
    expect(logs.at(-1)?.reason).toBe('version 2 not accepted; this app takes v1');
  });

  it('drops an event without time instead of inventing one', async () => {
    const { deliver, received } = greetingConsumer();
    const { time: _, ...timeless } = sentByNewProducer();
    expect(await deliver(timeless)).toBe('DROP');
    expect(received).toEqual([]);
  });

  it('drops an event whose dataschema names no known version of its type', async () => {
    const { deliver, received } = greetingConsumer();
    const sent = sentByNewProducer();
    const { dataschema: _, ...unnamed } = sent;
    expect(await deliver(unnamed)).toBe('DROP');
    expect(await deliver({ ...sent, dataschema: 'urn:shop:events:test.greeted:v3' })).toBe('DROP');
    expect(await deliver({ ...sent, dataschema: 'urn:shop:events:test.waved:v1' })).toBe('DROP');
    // v1's name over v2's payload: the payload fails the schema it claims.
    expect(await deliver({ ...sent, dataschema: 'urn:shop:events:test.greeted:v1' })).toBe('DROP');
    expect(received).toEqual([]);
  });

  it('drops a type the consumer does not declare', async () => {
    const { deliver } = greetingConsumer();
    const waved = buildEvent('test.waved', { hand: 'left' }, { source: 'test', catalog });
    expect(await deliver(waved, 'test.waved')).toBe('DROP');
  });
});

describe('defineConsumer', () => {
  it('refuses, at compile time, a missing handler, an extra one and an undeclared version', () => {
    const consumes = { 'test.greeted': [2] } as const satisfies ConsumedEvents<TestCatalog>;
    // @ts-expect-error a declared type without a handler
    defineConsumer({ catalog, consumes, handlers: {} });
    defineConsumer({
      catalog,
      consumes,
      // @ts-expect-error a handler for a type not declared
      handlers: { 'test.greeted': accept, 'test.waved': accept },
    });
    const spreadExtra = { 'test.waved': accept };
    defineConsumer({
      catalog,
      consumes,
      // @ts-expect-error also when the extra handler arrives in a spread
      handlers: { 'test.greeted': accept, ...spreadExtra },
    });
    defineConsumer({
      catalog,
      consumes,
      handlers: {
        'test.greeted': async (event) => {
          // @ts-expect-error only v2 is declared, so v1's field is not there
          event.data.name;
          return 'SUCCESS';
        },
      },
    });
    // @ts-expect-error a version the catalog does not have
    const unknownVersion: ConsumedEvents<TestCatalog> = { 'test.greeted': [3] };
    // @ts-expect-error at least one version
    const noVersion: ConsumedEvents<TestCatalog> = { 'test.greeted': [] };
    expect([unknownVersion, noVersion]).toHaveLength(2);
  });
});

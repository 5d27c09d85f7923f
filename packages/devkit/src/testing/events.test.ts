import { type EventType, eventCatalog, parseEvent } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { eventFixture } from './events.ts';

const types = Object.keys(eventCatalog) as EventType[];

describe('eventFixture', () => {
  it.each(types)('builds a %s that a consumer takes as valid', (type) => {
    const event = eventFixture(type);
    const parsed = parseEvent(event);
    expect(parsed).toMatchObject({ ok: true, event: { type, id: event.id } });
    expect(event).toMatchObject({
      specversion: '1.0',
      type,
      source: eventCatalog[type].producer,
      datacontenttype: 'application/json',
      dataschema: `urn:shop:events:${type}:v${eventCatalog[type].current}`,
      pubsubname: 'pubsub',
      topic: type,
    });
  });

  it('makes a new id each time, so two fixtures are two events', () => {
    expect(eventFixture('order.created').id).not.toBe(eventFixture('order.created').id);
  });

  it('lays the given data and envelope over the sample', () => {
    const orderId = '7f6b1b8e-0d2f-4c55-9a51-6f4d6a0c2b10';
    const time = new Date('2026-01-02T03:04:05.000Z');
    const event = eventFixture(
      'order.cancelled',
      { orderId, reason: 'expired' },
      {
        id: 'event-1',
        source: 'elsewhere',
        time,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    );
    expect(event).toMatchObject({
      id: 'event-1',
      source: 'elsewhere',
      time: '2026-01-02T03:04:05.000Z',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      data: { orderId, reason: 'expired', userId: expect.any(String) },
    });
  });

  it('refuses data its schema refuses, naming the field', () => {
    expect(() => eventFixture('order.created', { orderId: 'not-a-uuid' })).toThrow(/orderId/);
    expect(() => eventFixture('payment.succeeded', { amount: -1 })).toThrow(/amount/);
    expect(() => eventFixture('order.cancelled', { reason: 'bored' as 'expired' })).toThrow(
      /reason/,
    );
  });

  it('refuses a field the schema does not know, rather than dropping it', () => {
    expect(() =>
      eventFixture('order.confirmed', { orderID: 'x' } as unknown as { orderId: string }),
    ).toThrow(/no field orderID/);
  });

  it('refuses an envelope a consumer would refuse', () => {
    expect(() => eventFixture('user.registered', {}, { id: '' })).toThrow(/not a valid CloudEvent/);
  });
});

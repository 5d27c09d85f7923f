import { buildEvent, createLogger, createMemoryDeadLetterStore } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { createMemoryInboxRepository } from './repository.ts';

const appApiToken = 'notifications-app-token-0123';

function setup() {
  const inbox = createMemoryInboxRepository();
  const app = createApp({
    config: { APP_API_TOKEN: appApiToken },
    logger: createLogger({ service: 'notifications', write: () => {} }),
    sidecar: { ready: async () => {} },
    inbox,
    deadLetters: createMemoryDeadLetterStore(),
  });
  const deliver = async (event: unknown, route = 'user.registered') => {
    const res = await app.request(`/events/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'dapr-api-token': appApiToken },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { status: string }).status;
  };
  return { inbox, deliver };
}

const registered = buildEvent(
  'user.registered',
  { userId: 'u-1', email: 'ada@example.com', name: 'Ada', registeredAt: new Date().toISOString() },
  { source: 'users' },
);

describe('user.registered', () => {
  it('puts one welcome notification in the inbox, however often it is delivered', async () => {
    const { inbox, deliver } = setup();
    expect(await deliver(registered)).toBe('SUCCESS');
    expect(await deliver(registered)).toBe('SUCCESS');
    const items = await inbox.listForUser('u-1');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'welcome', readAt: null });
  });

  it('drops (to the dead-letter topic) a payload that breaks its schema', async () => {
    const { deliver } = setup();
    expect(await deliver({ ...registered, data: { userId: 'u-1' } })).toBe('DROP');
    expect(await deliver({ nonsense: true })).toBe('DROP');
  });

  it('drops an event delivered on another type’s route', async () => {
    const { deliver } = setup();
    expect(await deliver(registered, 'order.created')).toBe('DROP');
  });
});

import { randomUUID } from 'node:crypto';
import { eventFixture, silentLogger } from '@shop/devkit/testing';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { emailOutboxStore, ensureEmailOutboxIndexes, mongoEmailOutbox } from '../email/outbox.ts';
import { useTestNotifications } from '../test-support.ts';
import { accountAlertHandlers } from './events.ts';

function loginLocked(userId = `u-${randomUUID()}`) {
  return eventFixture('user.login_locked', {
    userId,
    email: 'owner@example.com',
    until: '2026-12-06T07:15:00.000Z',
    attempts: 125,
  });
}

describe('user.login_locked', () => {
  const notifications = useTestNotifications();
  let client: MongoClient | undefined;
  afterAll(() => client?.close());

  it('mails the owner at the address in the event, whatever the preferences, not in the inbox', async () => {
    const { deliver, call, mails, notificationsOf } = await notifications();
    const event = loginLocked();
    const { userId } = event.data;
    // Every notification mail turned off: a security mail goes all the same.
    const off = { inApp: false, email: false };
    const turnedOff = await call('/api/v1/notifications/preferences', {
      method: 'PUT',
      userId,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ welcome: off, order_confirmed: off, order_cancelled: off }),
    });
    expect(turnedOff.status).toBe(200);
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await deliver(event)).toBe('SUCCESS');
    expect([...mails.values()]).toEqual([
      {
        to: 'owner@example.com',
        notification: expect.objectContaining({
          userId,
          type: 'login_locked',
          title: 'Sign-ins to your Shop account were paused',
          body: expect.stringContaining('125 failed attempts'),
          sourceKey: `${event.id}:${userId}`,
        }),
      },
    ]);
    expect(await notificationsOf(userId)).toEqual([]);
  });

  it('hands the outbox one mail per event however often it runs', async () => {
    client = new MongoClient(notifications.mongo().freshDatabaseUrl());
    const store = emailOutboxStore(client.db());
    await ensureEmailOutboxIndexes(store);
    const handlers = accountAlertHandlers({
      logger: silentLogger('notifications'),
      email: mongoEmailOutbox(store),
    });
    const [first, second] = [loginLocked(), loginLocked()];
    for (const event of [first, second, first, first]) {
      expect(await handlers['user.login_locked']({ ...event, version: 1 })).toBe('SUCCESS');
    }
    const stored = await store.mails.find().sort({ createdAt: 1 }).toArray();
    expect(stored.map((mail) => mail._id).sort()).toEqual(
      [`${first.id}:${first.data.userId}`, `${second.id}:${second.data.userId}`].sort(),
    );
    expect(stored[0]).toMatchObject({ to: 'owner@example.com', type: 'login_locked' });
    expect(stored[0]?.html).toContain('<h1>Sign-ins to your Shop account were paused</h1>');
  });

  it('refuses an event whose data does not match the schema', async () => {
    const { deliver, mails } = await notifications();
    const event = loginLocked();
    const broken = { ...event, data: { ...event.data, email: 'not an address' } };
    expect(await deliver(broken)).toBe('DROP');
    expect(mails.size).toBe(0);
  });
});

import { randomUUID } from 'node:crypto';
import { eventFixture, silentLogger } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { sendDueMail } from '../email/sender.ts';
import { streamLeaseStore, takeSlot } from '../stream/leases.ts';
import { type TestNotifications, useTestNotifications } from '../test-support.ts';

const notifications = useTestNotifications();

/** Everything the service can hold about each user: inbox, state, mail queued and sent. */
async function giveEverything(subject: TestNotifications, userIds: string[]) {
  const { deliver } = subject;
  for (const userId of userIds) {
    const registered = eventFixture('user.registered', { userId, email: `${userId}@x.test` });
    expect(await deliver(registered)).toBe('SUCCESS');
  }
  const sidecar = { invokeBinding: async () => '' };
  const sender = {
    outbox: subject.emailStore,
    sidecar,
    logger: silentLogger(),
    from: 'S <s@x.test>',
  };
  await sendDueMail({ ...sender, backoffMs: 1_000, maxBackoffMs: 1_000 });
  for (const userId of userIds) await giveState(subject, userId);
}

/** A mail still queued, preferences, a stream slot, a sign-out and a dead letter. */
async function giveState({ deliver, call, db }: TestNotifications, userId: string) {
  expect(await deliver(eventFixture('user.login_locked', { userId }))).toBe('SUCCESS');
  const preferences = await call('/api/v1/notifications/preferences', {
    method: 'PUT',
    userId,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ welcome: { inApp: true, email: false } }),
  });
  expect(preferences.status).toBe(200);
  const sessionId = randomUUID();
  const lease = { userId, sessionId, replicaId: 'r1', limit: 5, ttlMs: 60_000, now: new Date() };
  expect(await takeSlot(streamLeaseStore(db), lease)).toBeDefined();
  expect(await deliver(eventFixture('user.signed_out', { userId, sessionId }))).toBe('SUCCESS');
  await db.deadLetters.insertOne({
    _id: randomUUID(),
    type: 'order.confirmed',
    receivedAt: new Date(),
    eventJson: JSON.stringify(eventFixture('order.confirmed', { userId })),
  });
}

/** How many documents of each collection are the user's. */
async function holdings({ db, emailStore }: TestNotifications, userId: string) {
  const userSeqs = await db.userSeqs.find({}).toArray();
  const claims = await emailStore.claims.find({}).toArray();
  return {
    notifications: await db.notifications.countDocuments({ userId }),
    userSeqs: userSeqs.filter((doc) => doc._id.startsWith(`${userId}:`)).length,
    preferences: await db.preferences.countDocuments({ _id: userId }),
    recipients: await db.recipients.countDocuments({ _id: userId }),
    streamLeases: await db.streamLeases.countDocuments({ userId }),
    signedOut: await db.signedOut.countDocuments({ userId }),
    deadLetters: (await db.deadLetters.find({}).toArray()).filter((doc) =>
      doc.eventJson.includes(userId),
    ).length,
    queuedMail: await emailStore.mails.countDocuments({ userId }),
    sentMail: await emailStore.sent.countDocuments({ userId }),
    mailClaims: claims.filter((doc) => doc.mailId.endsWith(`:${userId}`)).length,
  };
}

const nothing = {
  notifications: 0,
  userSeqs: 0,
  preferences: 0,
  recipients: 0,
  streamLeases: 0,
  signedOut: 0,
  deadLetters: 0,
  queuedMail: 0,
  sentMail: 0,
  mailClaims: 0,
};

describe('user.deleted', () => {
  it("erases everything about the user and nothing of anyone else's", async () => {
    const subject = await notifications({ mongoEmail: true });
    const [gone, stays] = [randomUUID(), randomUUID()];
    await giveEverything(subject, [gone, stays]);
    const before = await holdings(subject, gone);
    for (const [what, count] of Object.entries(before))
      expect([what, count > 0]).toEqual([what, true]);

    expect(await subject.deliver(eventFixture('user.deleted', { userId: gone }))).toBe('SUCCESS');
    expect(await holdings(subject, gone)).toEqual(nothing);
    expect(await holdings(subject, stays)).toEqual(before);
    const inbox = await subject.call('/api/v1/notifications', { userId: gone });
    expect(((await inbox.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('stores nothing about the user from events that come after', async () => {
    const subject = await notifications({ mongoEmail: true });
    const userId = randomUUID();
    await giveEverything(subject, [userId]);
    expect(await subject.deliver(eventFixture('user.deleted', { userId }))).toBe('SUCCESS');
    const late = [
      eventFixture('order.confirmed', { userId }),
      eventFixture('order.cancelled', { userId }),
      eventFixture('user.registered', { userId }),
    ];
    for (const event of late) expect(await subject.deliver(event)).toBe('SUCCESS');
    expect(await holdings(subject, userId)).toEqual(nothing);
    // Others' deliveries go on as before.
    const other = randomUUID();
    expect(await subject.deliver(eventFixture('user.registered', { userId: other }))).toBe(
      'SUCCESS',
    );
    expect(await subject.notificationsOf(other)).toHaveLength(1);
  });

  it("ends the user's open streams on every replica's next renewal", async () => {
    const { deliver, streamLimits } = await notifications();
    const [gone, stays] = [randomUUID(), randomUUID()];
    const goneStream = await streamLimits.admit({ userId: gone, sessionId: 'family-1' });
    const otherStream = await streamLimits.admit({ userId: stays, sessionId: 'family-2' });
    expect(await deliver(eventFixture('user.deleted', { userId: gone }))).toBe('SUCCESS');
    await streamLimits.renew();
    expect(await goneStream.ended).toBe('lease_lost');
    expect(await Promise.race([otherStream.ended, Promise.resolve('open')])).toBe('open');
  });

  it('accepts the event again, and for a user it never knew', async () => {
    const subject = await notifications({ mongoEmail: true });
    const userId = randomUUID();
    await giveEverything(subject, [userId]);
    const event = eventFixture('user.deleted', { userId });
    expect(await subject.deliver(event)).toBe('SUCCESS');
    expect(await subject.deliver(event)).toBe('SUCCESS');
    expect(await subject.deliver(eventFixture('user.deleted'))).toBe('SUCCESS');
    expect(await holdings(subject, userId)).toEqual(nothing);
  });

  it('erases what the recording outbox holds when the app mails through it', async () => {
    const { deliver, mails } = await notifications();
    const [gone, stays] = [randomUUID(), randomUUID()];
    for (const userId of [gone, stays]) {
      expect(await deliver(eventFixture('user.login_locked', { userId }))).toBe('SUCCESS');
    }
    expect(await deliver(eventFixture('user.deleted', { userId: gone }))).toBe('SUCCESS');
    expect([...mails.values()].map((mail) => mail.notification.userId)).toEqual([stays]);
  });

  it('drops an event without a user id, erasing nothing', async () => {
    const subject = await notifications({ mongoEmail: true });
    const userId = randomUUID();
    await giveEverything(subject, [userId]);
    const before = await holdings(subject, userId);
    const event = eventFixture('user.deleted', { userId });
    expect(await subject.deliver({ ...event, data: { deletedAt: event.data.deletedAt } })).toBe(
      'DROP',
    );
    expect(await holdings(subject, userId)).toEqual(before);
  });
});

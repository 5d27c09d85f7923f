import { randomUUID } from 'node:crypto';
import { silentLogger, useTestMongo } from '@shop/devkit/testing';
import type { Sidecar } from '@shop/platform';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../inbox/notification.ts';
import {
  type EmailOutboxStore,
  emailOutboxStore,
  ensureEmailOutboxIndexes,
  mongoEmailOutbox,
} from './outbox.ts';
import { renderMail } from './render.ts';
import { type EmailSenderOptions, sendDueMail } from './sender.ts';

// The outbox over a real FerretDB; the SMTP binding is our own one-method interface here
// (the real binding, daprd and mailpit are exercised in test/e2e/notifications-email.test.ts).
const mongo = useTestMongo();
let client: MongoClient;

beforeAll(async () => {
  client = new MongoClient(mongo().freshDatabaseUrl());
});
afterAll(() => client?.close());

async function freshOutbox(): Promise<EmailOutboxStore> {
  const store = emailOutboxStore(client.db(), `t${randomUUID().slice(0, 8)}_`);
  await ensureEmailOutboxIndexes(store);
  return store;
}

function notification(overrides: Partial<Notification> = {}): Notification {
  const userId = `u-${randomUUID()}`;
  return {
    id: randomUUID(),
    userId,
    type: 'welcome',
    title: 'Welcome to Shop, Ada & <co>',
    body: 'Your account is ready.\n\nEnjoy.',
    data: {},
    createdAt: new Date(),
    readAt: null,
    seq: 1,
    sourceKey: `${randomUUID()}:${userId}`,
    ...overrides,
  };
}

type Sent = { data: unknown; metadata: Record<string, string> | undefined };

/** A binding that records what it accepted, and fails while `down` is set. */
function binding() {
  const sent: Sent[] = [];
  const state = { down: false, calls: 0 };
  const sidecar: Pick<Sidecar, 'invokeBinding'> = {
    async invokeBinding(name, operation, data, metadata) {
      state.calls++;
      expect([name, operation]).toEqual(['email', 'create']);
      if (state.down) throw new Error('binding email create failed: 500 connection refused');
      sent.push({ data, metadata });
      return '';
    },
  };
  return { sent, state, sidecar };
}

function sender(
  outbox: EmailOutboxStore,
  sidecar: Pick<Sidecar, 'invokeBinding'>,
  extra: Partial<EmailSenderOptions> = {},
): EmailSenderOptions {
  return {
    outbox,
    sidecar,
    logger: silentLogger('notifications'),
    from: 'Shop <no-reply@shop.test>',
    backoffMs: 1_000,
    maxBackoffMs: 8_000,
    ...extra,
  };
}

describe('the email outbox', () => {
  it('keeps one mail per sourceKey however often it is handed over', async () => {
    const outbox = await freshOutbox();
    const n = notification();
    const enqueue = mongoEmailOutbox(outbox).enqueue;
    await enqueue({ notification: n, to: 'ada@example.com' });
    await enqueue({ notification: n, to: 'ada@example.com' });
    // A redelivery whose in-app preference is off makes a fresh id each time; still one.
    await enqueue({ notification: { ...n, id: randomUUID() }, to: 'ada@example.com' });
    expect(await outbox.mails.countDocuments()).toBe(1);
    expect(await outbox.mails.findOne()).toMatchObject({ _id: n.sourceKey, status: 'pending' });
  });

  it('renders the title as subject and escapes it in the HTML', () => {
    const mail = renderMail(notification());
    expect(mail.subject).toBe('Welcome to Shop, Ada & <co>');
    expect(mail.html).toContain('<h1>Welcome to Shop, Ada &amp; &lt;co&gt;</h1>');
    expect(mail.html).toContain('<p>Your account is ready.</p>\n<p>Enjoy.</p>');
  });
});

describe('the email sender', () => {
  sendAndRetryCases();
  failureAndReplicaCases();
});

function sendAndRetryCases() {
  it('sends what is due through the binding and marks it sent, once', async () => {
    const outbox = await freshOutbox();
    const n = notification();
    await mongoEmailOutbox(outbox).enqueue({ notification: n, to: 'ada@example.com' });
    const { sent, sidecar } = binding();
    expect(await sendDueMail(sender(outbox, sidecar))).toBe(1);
    expect(await sendDueMail(sender(outbox, sidecar))).toBe(0);
    expect(sent).toEqual([
      {
        data: renderMail(n).html,
        metadata: {
          emailFrom: 'Shop <no-reply@shop.test>',
          emailTo: 'ada@example.com',
          subject: n.title,
        },
      },
    ]);
    // Sent, it leaves the outbox every poll reads; what is kept of it has no content.
    expect(await outbox.mails.countDocuments()).toBe(0);
    expect(await outbox.sent.findOne()).toEqual({
      _id: n.sourceKey,
      notificationId: n.id,
      userId: n.userId,
      type: n.type,
      sentAt: expect.any(Date),
      attempts: 1,
    });
  });

  it('sends a mail once however often its event comes again after it was sent', async () => {
    const outbox = await freshOutbox();
    const n = notification();
    const { sent, sidecar } = binding();
    for (let i = 0; i < 3; i++) {
      await mongoEmailOutbox(outbox).enqueue({ notification: n, to: 'ada@example.com' });
      await sendDueMail(sender(outbox, sidecar));
    }
    expect(sent).toHaveLength(1);
    expect(await outbox.mails.countDocuments()).toBe(0);
  });

  it('moves the mails an earlier version kept in its outbox as sent out of it at start', async () => {
    const outbox = await freshOutbox();
    const n = notification();
    await mongoEmailOutbox(outbox).enqueue({ notification: n, to: 'ada@example.com' });
    const sentAt = new Date('2026-11-30T12:00:00Z');
    await outbox.mails.updateOne({ _id: n.sourceKey }, { $set: { status: 'sent', sentAt } });
    await ensureEmailOutboxIndexes(outbox);
    expect(await outbox.mails.countDocuments()).toBe(0);
    expect(await outbox.sent.findOne()).toMatchObject({ _id: n.sourceKey, sentAt });
    const { sent, sidecar } = binding();
    await mongoEmailOutbox(outbox).enqueue({ notification: n, to: 'ada@example.com' });
    expect(await sendDueMail(sender(outbox, sidecar))).toBe(0);
    expect(sent).toEqual([]);
  });

  it('retries with growing backoff while the mail server is down, then sends exactly once', async () => {
    const outbox = await freshOutbox();
    await mongoEmailOutbox(outbox).enqueue({ notification: notification(), to: 'b@example.com' });
    const { sent, state, sidecar } = binding();
    let now = Date.now();
    const options = sender(outbox, sidecar, { clock: () => new Date(now) });
    state.down = true;
    expect(await sendDueMail(options)).toBe(0);
    expect(await outbox.mails.findOne()).toMatchObject({ status: 'pending', attempts: 1 });
    // Not again before its backoff (1 s), then after 2 s, 4 s, and at most 8 s.
    expect(await sendDueMail(options)).toBe(0);
    expect(state.calls).toBe(1);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const due = (await outbox.mails.findOne())?.nextAttemptAt.getTime() ?? 0;
      waits.push(due - now);
      now = due;
      await sendDueMail(options);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000]);
    state.down = false;
    now = ((await outbox.mails.findOne())?.nextAttemptAt.getTime() ?? 0) + 1;
    expect(await sendDueMail(options)).toBe(1);
    expect(await sendDueMail(options)).toBe(0);
    expect(sent).toHaveLength(1);
    expect(await outbox.mails.countDocuments()).toBe(0);
    // Five failed attempts and the one that sent it.
    expect(await outbox.sent.findOne()).toMatchObject({ attempts: 6 });
  });
}

function failureAndReplicaCases() {
  it('stops at the first failure of a run and gives the rest back unattempted', async () => {
    const outbox = await freshOutbox();
    const enqueue = mongoEmailOutbox(outbox).enqueue;
    for (let i = 0; i < 3; i++) await enqueue({ notification: notification(), to: `${i}@x.test` });
    const { sent, state, sidecar } = binding();
    state.down = true;
    expect(await sendDueMail(sender(outbox, sidecar))).toBe(0);
    expect(state.calls).toBe(1);
    const attempts = (await outbox.mails.find().toArray()).map((m) => m.attempts).sort();
    expect(attempts).toEqual([0, 0, 1]);
    state.down = false;
    // The two given back are due at once; the failed one after its backoff.
    expect(await sendDueMail(sender(outbox, sidecar))).toBe(2);
    expect(sent).toHaveLength(2);
  });

  it('sends each mail once when two replicas send at the same time', async () => {
    const outbox = await freshOutbox();
    const enqueue = mongoEmailOutbox(outbox).enqueue;
    for (let i = 0; i < 20; i++) await enqueue({ notification: notification(), to: `${i}@x.test` });
    const { sent, sidecar } = binding();
    const counts = await Promise.all([
      sendDueMail(sender(outbox, sidecar)),
      sendDueMail(sender(outbox, sidecar)),
    ]);
    expect(counts[0] + counts[1]).toBe(20);
    expect(new Set(sent.map((s) => s.metadata?.emailTo)).size).toBe(20);
    expect(sent).toHaveLength(20);
  });

  it('takes over a mail whose sender died holding it, once its lease has run out', async () => {
    const outbox = await freshOutbox();
    await mongoEmailOutbox(outbox).enqueue({ notification: notification(), to: 'c@example.com' });
    let now = Date.now();
    const { sent, sidecar } = binding();
    // The dying sender has claimed the mail once it is sending it; it never finishes.
    let sending: () => void = () => {};
    const claimed = new Promise<void>((resolve) => {
      sending = resolve;
    });
    const dying: Pick<Sidecar, 'invokeBinding'> = {
      invokeBinding: () => {
        sending();
        return new Promise(() => {});
      },
    };
    void sendDueMail(sender(outbox, dying, { clock: () => new Date(now), leaseMs: 30_000 }));
    await claimed;
    const options = sender(outbox, sidecar, { clock: () => new Date(now), leaseMs: 30_000 });
    expect(await sendDueMail(options)).toBe(0);
    now += 30_001;
    expect(await sendDueMail(options)).toBe(1);
    expect(sent).toHaveLength(1);
  });
}

import { randomUUID } from 'node:crypto';
import { pollUntil } from '@shop/devkit/process';
import {
  eventFixture,
  handledDeliveries,
  startTestShop,
  type TestShop,
} from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Mail through the real `email` binding (bindings.smtp in notifications' sidecar) to the
// shop's private mailpit, read back over mailpit's HTTP API.
let shop: TestShop;
const password = 'correct horse battery';

beforeAll(async () => {
  shop = await startTestShop({
    apps: ['gateway', 'users', 'notifications'],
    appEnv: {
      notifications: {
        EMAIL_FROM: 'Shop <no-reply@shop.test>',
        PUBLIC_URL: 'https://shop.test',
        EMAIL_SEND_INTERVAL_MS: '200',
        EMAIL_RETRY_BASE_MS: '200',
        EMAIL_RETRY_MAX_MS: '1000',
      },
    },
  });
});

afterAll(async () => {
  await shop?.stop();
});

type Summary = {
  ID: string;
  Subject: string;
  From: { Address: string };
  To: Array<{ Address: string }>;
};

async function mailsTo(address: string): Promise<Summary[]> {
  const query = encodeURIComponent(`to:"${address}"`);
  const res = await fetch(`${shop.mailpit?.apiUrl}/api/v1/search?query=${query}`);
  return ((await res.json()) as { messages: Summary[] }).messages;
}

async function htmlOf(id: string): Promise<string> {
  const res = await fetch(`${shop.mailpit?.apiUrl}/api/v1/message/${id}`);
  return ((await res.json()) as { HTML: string }).HTML;
}

async function register(email: string): Promise<string> {
  const res = await shop.send('POST', '/api/v1/auth/register', {
    body: { email, password, name: 'Mail E2E' },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const arrives = (address: string, count = 1) =>
  pollUntil(
    async () => {
      const mails = await mailsTo(address);
      return mails.length >= count ? mails : undefined;
    },
    { timeoutMs: 30_000, what: `mail to ${address}` },
  );

/**
 * Every mail to `address` but a marker, once the marker has arrived: an order confirmation
 * queued now is sent after whatever was queued before it (the outbox sends in due order),
 * so a second copy of an earlier mail would be here by then.
 */
async function mailsBeforeMarker(address: string, userId: string): Promise<Summary[]> {
  const orderId = randomUUID();
  await shop.publish(eventFixture('order.confirmed', { orderId, userId }), 'notifications');
  const mails = await pollUntil(
    async () => {
      const all = await mailsTo(address);
      return all.some((m) => m.Subject === 'Order confirmed') ? all : undefined;
    },
    { what: `the marker mail to ${address}`, timeoutMs: 30_000 },
  );
  return mails.filter((m) => m.Subject !== 'Order confirmed');
}

/** What registering mails: the welcome, and the link that confirms the address. */
const welcome = 'Welcome to Shop, Mail E2E';
const confirmAddress = 'Confirm your email address for Shop';
const registrationMails = [confirmAddress, welcome];

describe('email through the SMTP binding', () => {
  it('sends the welcome and the address confirmation on registration, once each', async () => {
    const email = `welcome-${randomUUID()}@example.com`;
    const userId = await register(email);
    const mails = await arrives(email, 2);
    const mail = mails.find((m) => m.Subject === welcome);
    expect(mail).toMatchObject({
      From: { Address: 'no-reply@shop.test' },
      To: [{ Address: email }],
    });
    expect(await htmlOf(mail?.ID ?? '')).toContain(`<h1>${welcome}</h1>`);
    const confirm = mails.find((m) => m.Subject === confirmAddress);
    expect(confirm).toMatchObject({ To: [{ Address: email }] });
    // The link under PUBLIC_URL, as a link; the token it carries is users' secret.
    expect(await htmlOf(confirm?.ID ?? '')).toMatch(
      /<a href="https:\/\/shop\.test\/verify-email\?token=[^"]+">/,
    );
    const once = await mailsBeforeMarker(email, userId);
    expect(once.map((m) => m.Subject).sort()).toEqual(registrationMails);
  });

  it('mails order confirmations and cancellations', async () => {
    const email = `orders-${randomUUID()}@example.com`;
    const userId = await register(email);
    await arrives(email, 2);
    const orderId = randomUUID();
    await shop.publish(
      eventFixture('order.confirmed', { orderId, userId, total: 4200 }),
      'notifications',
    );
    await shop.publish(
      eventFixture('order.cancelled', { orderId, userId, reason: 'customer_request' }),
      'notifications',
    );
    const subjects = (await arrives(email, 4)).map((m) => m.Subject).sort();
    expect(subjects).toEqual([confirmAddress, 'Order cancelled', 'Order confirmed', welcome]);
  });

  it("mails the owner once when the account's login cap trips, however often the event comes", async () => {
    const email = `locked-${randomUUID()}@example.com`;
    const userId = await register(email);
    await arrives(email, 2);
    const locked = eventFixture('user.login_locked', {
      userId,
      email,
      until: new Date(Date.now() + 15 * 60_000).toISOString(),
      attempts: 100,
    });
    // Through the users sidecar: only users may publish user.* events.
    await shop.publish(locked, 'users');
    await shop.publish(locked, 'users');
    const mails = await arrives(email, 3);
    const alert = mails.find((m) => m.Subject === 'Sign-ins to your Shop account were paused');
    expect(alert).toMatchObject({ To: [{ Address: email }] });
    expect(await htmlOf(alert?.ID ?? '')).toContain('100 failed attempts');
    await pollUntil(
      async () => (handledDeliveries(shop, 'notifications', locked.id) >= 2 ? true : undefined),
      {
        what: 'notifications to handle both deliveries of the lock event',
        timeoutMs: 30_000,
      },
    );
    expect(await mailsBeforeMarker(email, userId)).toHaveLength(3);
  });

  it('sends exactly one mail after the mail server comes back, and one notification', async () => {
    await shop.kill('mailpit');
    const email = `outage-${randomUUID()}@example.com`;
    let restarted = false;
    let userId = '';
    try {
      userId = await register(email);
      // The sender has tried and failed at least twice meanwhile.
      await pollUntil(
        async () =>
          (shop.log('notifications').match(/mail not sent; retrying later/g)?.length ?? 0) >= 2
            ? true
            : undefined,
        { timeoutMs: 30_000, what: 'failed sends while mailpit is down' },
      );
      await shop.restart('mailpit');
      restarted = true;
    } finally {
      if (!restarted) await shop.restart('mailpit');
    }
    await arrives(email, 2);
    const once = await mailsBeforeMarker(email, userId);
    expect(once.map((m) => m.Subject).sort()).toEqual(registrationMails);
    const token = await shop.login(email, password);
    const inbox = (await (await shop.send('GET', '/api/v1/notifications', { token })).json()) as {
      items: Array<{ type: string }>;
    };
    const types = inbox.items.map((n) => n.type).filter((type) => type !== 'order_confirmed');
    expect(types).toEqual(['welcome']);
  }, 90_000);
});

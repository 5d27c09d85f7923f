import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { testPublicUrl, useTestNotifications } from '../test-support.ts';
import { accountLinksEnv } from './config.ts';
import { lifetimeOf, linkTo } from './mails.ts';

const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

const everyTypeOff = () => {
  const off = { inApp: false, email: false };
  return {
    welcome: off,
    order_confirmed: off,
    order_cancelled: off,
    price_drop: off,
    back_in_stock: off,
  };
};

const cases = [
  {
    type: 'user.password_reset_requested',
    page: '/reset-password',
    mailType: 'password_reset',
    title: 'Reset your Shop password',
    lifetime: '30 minutes',
    expiresAt: () => minutes(30),
  },
  {
    type: 'user.email_verification_requested',
    page: '/verify-email',
    mailType: 'email_verification',
    title: 'Confirm your email address for Shop',
    lifetime: '24 hours',
    expiresAt: () => minutes(24 * 60),
  },
] as const;

// One FerretDB for the file: starting one is slow on a busy machine.
const notifications = useTestNotifications();

describe.each(cases)('$type', (c) => {
  const linkEvent = (fields: { expiresAt?: string; token?: string } = {}) => {
    const event = eventFixture(c.type, { expiresAt: c.expiresAt(), ...fields });
    // The lifetime the mail states is counted from the event's time.
    return { ...event, time: new Date().toISOString() };
  };

  it('mails the link and the token whatever the preferences, never to the inbox or stream', async () => {
    const { deliver, call, mails, created, notificationsOf } = await notifications();
    const event = linkEvent();
    const { userId, token } = event.data;
    const turnedOff = await call('/api/v1/notifications/preferences', {
      method: 'PUT',
      userId,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(everyTypeOff()),
    });
    expect(turnedOff.status).toBe(200);
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await deliver(event)).toBe('SUCCESS');
    const sent = [...mails.values()];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      to: 'ada@example.com',
      notification: { userId, type: c.mailType, title: c.title, seq: 0 },
    });
    const body = sent[0]?.notification.body ?? '';
    expect(body).toContain(`${testPublicUrl}${c.page}?token=${token}`);
    expect(body).toContain(`\n${token}\n`);
    expect(body).toContain(`valid for ${c.lifetime}`);
    expect(body).toContain('If you did not');
    expect(sent[0]?.notification.data).not.toHaveProperty('token');
    expect(await notificationsOf(userId)).toEqual([]);
    expect(created).toEqual([]);
  });

  it('renders the link as a link in the queued mail', async () => {
    const { deliver, emailStore } = await notifications({ mongoEmail: true });
    const event = linkEvent({ token: 'a+b/c=d&e' });
    expect(await deliver(event)).toBe('SUCCESS');
    const queued = await emailStore.mails.find({ userId: event.data.userId }).toArray();
    expect(queued).toHaveLength(1);
    const href = `${testPublicUrl}${c.page}?token=a%2Bb%2Fc%3Dd%26e`;
    expect(queued[0]?.html).toContain(`<a href="${href}">${href}</a>`);
    expect(queued[0]).toMatchObject({ to: 'ada@example.com', subject: c.title });
  });

  it('does not mail a link that expired before its event came', async () => {
    const { deliver, mails } = await notifications();
    expect(await deliver(linkEvent({ expiresAt: minutes(-1) }))).toBe('SUCCESS');
    expect(mails.size).toBe(0);
  });

  it('drops an event whose data breaks the schema, mailing nothing', async () => {
    const { deliver, mails } = await notifications();
    const event = linkEvent();
    expect(await deliver({ ...event, data: { ...event.data, token: '' } })).toBe('DROP');
    expect(mails.size).toBe(0);
  });
});

describe('the links', () => {
  it('point under PUBLIC_URL, by default the local gateway', () => {
    expect(accountLinksEnv.parse({}).PUBLIC_URL).toBe('http://localhost:8080');
    const { PUBLIC_URL } = accountLinksEnv.parse({ PUBLIC_URL: 'https://shop.example.com/eu/' });
    expect(linkTo(PUBLIC_URL, '/verify-email', 't 1')).toBe(
      'https://shop.example.com/eu/verify-email?token=t%201',
    );
    expect(() => accountLinksEnv.parse({ PUBLIC_URL: 'ftp://shop.example.com' })).toThrow();
    expect(() => accountLinksEnv.parse({ PUBLIC_URL: 'shop.example.com' })).toThrow();
  });

  it('say how long they are valid', () => {
    const at = '2026-12-07T00:00:00.000Z';
    expect(lifetimeOf(at, '2026-12-07T00:30:00.000Z')).toBe('30 minutes');
    expect(lifetimeOf(at, '2026-12-08T00:00:00.000Z')).toBe('24 hours');
    expect(lifetimeOf(at, '2026-12-07T01:00:00.000Z')).toBe('1 hour');
    expect(lifetimeOf(at, '2026-12-07T00:00:10.000Z')).toBe('1 minute');
  });
});

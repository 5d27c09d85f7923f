import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useTestNotifications } from '../test-support.ts';

const path = '/api/v1/notifications/preferences';
const allOn = { inApp: true, email: true };

const registered = (userId: string) =>
  eventFixture('user.registered', { userId, email: `${userId}@example.com`, name: 'Fay' });

const confirmed = (userId: string) =>
  eventFixture('order.confirmed', {
    orderId: crypto.randomUUID(),
    userId,
    total: 100,
  });

describe('/api/v1/notifications/preferences', () => {
  const notifications = useTestNotifications();

  const ctx = { notifications, ...preferenceHelpers(notifications) };

  choiceCases(ctx);
  honouredCases(ctx);
});

type TestNotifications = ReturnType<typeof useTestNotifications>;
type Ctx = { notifications: TestNotifications } & ReturnType<typeof preferenceHelpers>;

/** A PUT of the preferences, as JSON unless the body is a string already. */
function preferenceHelpers(notifications: TestNotifications) {
  const put = (
    call: Awaited<ReturnType<typeof notifications>>['call'],
    userId: string,
    body: unknown,
  ) =>
    call(path, {
      method: 'PUT',
      userId,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { put };
}

function choiceCases({ notifications, put }: Ctx) {
  it('has every type on both channels until the user chooses', async () => {
    const { call } = await notifications();
    const res = await call(path, { userId: 'fay' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      welcome: allOn,
      order_confirmed: allOn,
      order_cancelled: allOn,
      price_drop: allOn,
      back_in_stock: allOn,
    });
  });

  it('replaces the choices: a type left out is back to its defaults', async () => {
    const { call } = await notifications();
    const first = await put(call, 'fay', { price_drop: { inApp: false, email: false } });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ price_drop: { inApp: false, email: false } });
    await put(call, 'fay', { welcome: { inApp: true, email: false } });
    const now = await (await call(path, { userId: 'fay' })).json();
    expect(now).toMatchObject({ welcome: { inApp: true, email: false }, price_drop: allOn });
    expect(await (await call(path, { userId: 'gus' })).json()).toMatchObject({
      welcome: allOn,
    });
  });

  it.each([
    ['an unknown type', { birthday: allOn }],
    ['a channel missing', { welcome: { inApp: true } }],
    ['an unknown channel', { welcome: { ...allOn, sms: true } }],
    ['a string for a boolean', { welcome: { inApp: 'no', email: true } }],
    ['not an object', [1, 2]],
    ['malformed JSON', '{"welcome":'],
  ])('refuses %s with 400 problem+json and keeps what was there', async (_, body) => {
    const { call, db } = await notifications();
    const res = await put(call, 'fay', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await db.preferences.countDocuments()).toBe(0);
  });

  it('needs an access token', async () => {
    const { call } = await notifications();
    expect((await call(path)).status).toBe(401);
  });
}

function honouredCases({ notifications, put }: Ctx) {
  it('is honoured: in-app off puts nothing in the inbox but still emails', async () => {
    const { call, deliver, notificationsOf, mails, created } = await notifications();
    await put(call, 'hal', { order_confirmed: { inApp: false, email: true } });
    expect(await deliver(registered('hal'))).toBe('SUCCESS');
    const order = confirmed('hal');
    expect(await deliver(order)).toBe('SUCCESS');
    expect(await deliver(order)).toBe('SUCCESS');
    expect((await notificationsOf('hal')).map((n) => n.type)).toEqual(['welcome']);
    expect(created.map((n) => n.type)).toEqual(['welcome']);
    expect(mails.get(`${order.id}:hal`)).toMatchObject({
      to: 'hal@example.com',
      notification: { type: 'order_confirmed', seq: 0 },
    });
  });

  it('is honoured: email off sends no mail but fills the inbox', async () => {
    const { call, deliver, notificationsOf, mails } = await notifications();
    await put(call, 'ida', { welcome: { inApp: true, email: false } });
    expect(await deliver(registered('ida'))).toBe('SUCCESS');
    expect((await notificationsOf('ida')).map((n) => n.type)).toEqual(['welcome']);
    expect(mails.size).toBe(0);
  });
}

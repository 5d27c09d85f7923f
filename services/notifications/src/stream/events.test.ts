import { randomUUID } from 'node:crypto';
import { eventFixture } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { useTestNotifications } from '../test-support.ts';

describe('user.signed_out', () => {
  const notifications = useTestNotifications();

  it('marks the streams of the session to end, once however often it is delivered', async () => {
    const { deliver, streamLimits, db } = await notifications();
    const userId = `u-${randomUUID()}`;
    const ofSession = await streamLimits.admit({ userId, sessionId: 'family-1' });
    const other = await streamLimits.admit({ userId, sessionId: 'family-2' });
    const event = eventFixture('user.signed_out', { userId, sessionId: 'family-1' });
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await deliver(event)).toBe('SUCCESS');
    expect(await db.signedOut.countDocuments({ userId })).toBe(1);
    await streamLimits.renew();
    expect(await ofSession.ended).toBe('signed_out');
    expect(await Promise.race([other.ended, Promise.resolve('open')])).toBe('open');
  });
});

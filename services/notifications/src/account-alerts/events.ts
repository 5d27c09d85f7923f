import { randomUUID } from 'node:crypto';
import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import { type MailNotification, sourceKeyOf } from '../inbox/notification.ts';

/** The users service's events about an account's security that its owner is told of. */
export const accountAlertConsumes = { 'user.login_locked': [1] } as const satisfies ConsumedEvents;

export type AccountAlertDeps = {
  logger: Logger;
  email?: { enqueue(mail: { notification: MailNotification; to: string }): Promise<void> };
};

/** The mail an owner gets when the failed-login cap of the account trips. */
export function loginLockedMail(data: { attempts: number; until: string }) {
  const until = new Date(data.until).toUTCString();
  return {
    title: 'Sign-ins to your Shop account were paused',
    body: [
      `There were ${data.attempts} failed attempts to sign in to your account with a wrong ` +
        `password, so sign-ins with a password are paused until ${until}.`,
      'A device you signed in from before can still sign in. If these attempts were not ' +
        'yours, your password was not accepted, but consider changing it to a longer one.',
    ].join('\n\n'),
  };
}

/**
 * Mails the owner at the address the event names (security mail: not subject to the
 * notification preferences, not in the inbox). Once per event: the outbox keeps one mail
 * per sourceKey (`<event id>:<user id>`), so a redelivery hands over the same mail again.
 */
export function accountAlertHandlers(
  deps: AccountAlertDeps,
): EventHandlers<typeof accountAlertConsumes> {
  return {
    'user.login_locked': async (event) => {
      const { userId, email, attempts, until } = event.data;
      if (!deps.email) return 'SUCCESS';
      const notification: MailNotification = {
        id: randomUUID(),
        userId,
        type: 'login_locked',
        ...loginLockedMail({ attempts, until }),
        data: { until, attempts },
        createdAt: new Date(),
        readAt: null,
        // Never inserted in the inbox.
        seq: 0,
        sourceKey: sourceKeyOf(event.id, userId),
      };
      await deps.email.enqueue({ notification, to: email });
      deps.logger.info('login lock mailed to the owner', { userId, until });
      return 'SUCCESS';
    },
  };
}

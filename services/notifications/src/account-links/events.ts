import { randomUUID } from 'node:crypto';
import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import { type MailNotification, sourceKeyOf } from '../inbox/notification.ts';
import { emailVerificationMail, type LinkMailInput, passwordResetMail } from './mails.ts';

/** The users service's events that ask for a link to be mailed to the account's owner. */
export const accountLinkConsumes = {
  'user.password_reset_requested': [1],
  'user.email_verification_requested': [1],
} as const satisfies ConsumedEvents;

export type AccountLinkDeps = {
  logger: Logger;
  /** PUBLIC_URL: where the links point. */
  publicUrl: string;
  email?: { enqueue(mail: { notification: MailNotification; to: string }): Promise<void> };
};

type LinkEvent = {
  id: string;
  time: string;
  data: { userId: string; email: string; name: string; token: string; expiresAt: string };
};

type LinkMail = (input: LinkMailInput) => { title: string; body: string };

/**
 * Mails the link to the address in the event: a security mail, so whatever the
 * preferences say and never in the inbox or on the stream. Once per event (the outbox
 * keeps one mail per sourceKey); a token already expired is not mailed at all.
 */
async function mailLink(
  deps: AccountLinkDeps,
  event: LinkEvent,
  type: 'password_reset' | 'email_verification',
  render: LinkMail,
): Promise<'SUCCESS'> {
  const { userId, email, name, token, expiresAt } = event.data;
  if (!deps.email) return 'SUCCESS';
  if (Date.parse(expiresAt) <= Date.now()) {
    deps.logger.info('link expired before it was mailed; not sent', { userId, type });
    return 'SUCCESS';
  }
  const mail = render({
    name,
    token,
    expiresAt,
    requestedAt: event.time,
    publicUrl: deps.publicUrl,
  });
  const notification: MailNotification = {
    id: randomUUID(),
    userId,
    type,
    title: mail.title,
    body: mail.body,
    // Never inserted anywhere but the outbox; the token stays out of `data`.
    data: { expiresAt },
    createdAt: new Date(),
    readAt: null,
    seq: 0,
    sourceKey: sourceKeyOf(event.id, userId),
  };
  await deps.email.enqueue({ notification, to: email });
  deps.logger.info('account link mailed', { userId, type, expiresAt });
  return 'SUCCESS';
}

export function accountLinkHandlers(
  deps: AccountLinkDeps,
): EventHandlers<typeof accountLinkConsumes> {
  return {
    'user.password_reset_requested': (event) =>
      mailLink(deps, event, 'password_reset', passwordResetMail),
    'user.email_verification_requested': (event) =>
      mailLink(deps, event, 'email_verification', emailVerificationMail),
  };
}

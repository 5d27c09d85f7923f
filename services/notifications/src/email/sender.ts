import { inStoredTrace, type Logger, type Sidecar } from '@shop/platform';
import type { Db } from 'mongodb';
import type { z } from 'zod';
import type { EmailOutbox } from '../inbox/notification.ts';
import type { emailEnv } from './config.ts';
import {
  claimDueMail,
  type EmailOutboxStore,
  emailOutboxStore,
  ensureEmailOutboxIndexes,
  markFailed,
  markSent,
  mongoEmailOutbox,
  purgeClaims,
  release,
} from './outbox.ts';

/** The Dapr output binding the mails go through (components/common/email.yaml). */
export const emailBinding = 'email';

export type EmailSenderOptions = {
  outbox: EmailOutboxStore;
  sidecar: Pick<Sidecar, 'invokeBinding'>;
  logger: Logger;
  /** The sender of every mail, e.g. `Shop <no-reply@shop.example.com>`. */
  from: string;
  /** The first retry after a failure; each further one waits twice as long, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** How long a claimed mail is left to its sender before another may take it over. */
  leaseMs?: number;
  /** The most mails one run sends. */
  batch?: number;
  clock?: () => Date;
};

/**
 * Sends what is due in the outbox through the SMTP binding, one mail at a time, and marks
 * each sent only once the binding accepted it. A failure (the mail server down, say) puts
 * the mail back with exponential backoff; nothing else changes, so the notification is
 * never written twice and the mail is sent once it goes through.
 *
 * At least once, not exactly once: a crash (or a lost answer) after the SMTP server took the
 * mail and before it is marked sent leaves it pending, and it goes again after its lease.
 *
 * @example
 * lifecycle.every('email sender', 1_000, () => sendDueMail(options));
 */
export async function sendDueMail(options: EmailSenderOptions): Promise<number> {
  const clock = options.clock ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 60_000;
  let sent = 0;
  const claimed = await claimDueMail(options.outbox, clock(), leaseMs, options.batch ?? 50);
  for (const [i, mail] of claimed.entries()) {
    try {
      await inStoredTrace('email send', mail.traceparent, { 'email.type': mail.type }, () =>
        options.sidecar.invokeBinding(emailBinding, 'create', mail.html, {
          emailFrom: options.from,
          emailTo: mail.to,
          subject: mail.subject,
        }),
      );
    } catch (error) {
      const waitMs = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** mail.attempts);
      const retryAt = new Date(clock().getTime() + waitMs);
      options.logger.warn('mail not sent; retrying later', {
        mail: mail._id,
        attempts: mail.attempts + 1,
        retryAt: retryAt.toISOString(),
        error,
      });
      await markFailed(options.outbox, mail, retryAt, String(error));
      // The server is likely down for the rest too: they go back as due now, unattempted.
      for (const rest of claimed.slice(i + 1)) await release(options.outbox, rest);
      break;
    }
    await markSent(options.outbox, mail, clock());
    sent++;
  }
  return sent;
}

/**
 * The outbox the event handlers enqueue to, with its sender running every
 * EMAIL_SEND_INTERVAL_MS on the service's lifecycle (on every replica; claims keep each
 * attempt to one).
 *
 * @example
 * const email = await startEmail({ db: database.mongo, sidecar, logger, config, lifecycle });
 */
export async function startEmail(deps: {
  db: Db;
  sidecar: Pick<Sidecar, 'invokeBinding'>;
  logger: Logger;
  config: z.infer<typeof emailEnv>;
  lifecycle: { every(name: string, intervalMs: number, job: () => Promise<unknown>): void };
}): Promise<EmailOutbox> {
  const store = emailOutboxStore(deps.db);
  await ensureEmailOutboxIndexes(store);
  const { config } = deps;
  deps.lifecycle.every('email sender', config.EMAIL_SEND_INTERVAL_MS, () =>
    sendDueMail({
      outbox: store,
      sidecar: deps.sidecar,
      logger: deps.logger,
      from: config.EMAIL_FROM,
      backoffMs: config.EMAIL_RETRY_BASE_MS,
      maxBackoffMs: config.EMAIL_RETRY_MAX_MS,
    }),
  );
  deps.lifecycle.every('email claim purge', 60 * 60_000, () =>
    purgeClaims(store, new Date(), 24 * 60 * 60_000),
  );
  return mongoEmailOutbox(store);
}

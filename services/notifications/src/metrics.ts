import { type Logger, withinMs } from '@shop/platform';
import { Gauge, type Registry } from 'prom-client';
import type { EmailOutbox } from './inbox/notification.ts';
import type { StreamHub } from './stream/hub.ts';

/** A scrape waits this long at most for the mail count; past it the last value stands. */
const countTimeoutMs = 1_000;

/**
 * `notifications_open_streams` (this replica's live streams) and, when the email outbox
 * can count, `notifications_mail_queued` (mails not sent yet, of every replica), both read
 * when scraped. A count that fails or is slower than a second is logged and leaves the
 * last value, so a slow database never holds up a scrape.
 */
export function registerNotificationsMetrics(options: {
  registry: Registry;
  hub: Pick<StreamHub, 'size'>;
  email: EmailOutbox | undefined;
  logger: Logger;
}): void {
  const { registry, hub, email, logger } = options;
  new Gauge({
    name: 'notifications_open_streams',
    help: 'Notification streams open on this replica',
    registers: [registry],
    collect() {
      this.set(hub.size());
    },
  });
  const queued = email?.queued?.bind(email);
  if (!queued) return;
  new Gauge({
    name: 'notifications_mail_queued',
    help: 'Mails in the email outbox not sent yet (due, backing off after a failure, or being sent)',
    registers: [registry],
    async collect() {
      try {
        this.set(await withinMs(queued(), countTimeoutMs));
      } catch (error) {
        logger.warn('queued mail not counted; keeping the last value', { error });
      }
    },
  });
}

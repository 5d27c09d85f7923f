import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import type { NotificationsDb } from '../database.ts';
import type { EmailOutbox } from '../inbox/notification.ts';
import { eraseUser, markErased } from './repository.ts';

/** The users service's event that an account is gone: everything about its owner goes. */
export const accountErasureConsumes = { 'user.deleted': [1] } as const satisfies ConsumedEvents;

export type AccountErasureDeps = {
  db: NotificationsDb;
  logger: Logger;
  email?: Pick<EmailOutbox, 'erase'> | undefined;
};

/**
 * Erases the user's inbox, preferences, address, stream state and mail, queued or sent,
 * and records the id as erased so later events about the user store nothing. Idempotent:
 * a redelivery finds nothing left to delete.
 */
export function accountErasureHandlers(
  deps: AccountErasureDeps,
): EventHandlers<typeof accountErasureConsumes> {
  return {
    'user.deleted': async (event) => {
      const { userId } = event.data;
      // First, so a delivery running meanwhile stores nothing after the erasure below.
      await markErased(deps.db, userId, new Date());
      const erased = await eraseUser(deps.db, userId);
      const mails = (await deps.email?.erase?.(userId)) ?? 0;
      deps.logger.info('user erased', { userId, ...erased, mails });
      return 'SUCCESS';
    },
  };
}

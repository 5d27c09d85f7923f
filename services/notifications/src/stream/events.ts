import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import type { NotificationsDb } from '../database.ts';
import { recordSignOut, streamLeaseStore } from './leases.ts';

/** The users service's event that a session ended by logout: its streams end too. */
export const streamConsumes = { 'user.signed_out': [1] } as const satisfies ConsumedEvents;

/**
 * Marks the session's streams in the shared store; it arrives at one replica only, and each
 * replica's lease renewal (every STREAM_LEASE_RENEW_MS) ends the marked streams it holds.
 */
export function streamHandlers(deps: {
  db: NotificationsDb;
  logger: Logger;
}): EventHandlers<typeof streamConsumes> {
  return {
    'user.signed_out': async (event) => {
      const { userId, sessionId } = event.data;
      const marked = await recordSignOut(
        streamLeaseStore(deps.db),
        { userId, sessionId },
        new Date(),
      );
      deps.logger.info('streams of a signed-out session marked to end', { userId, marked });
      return 'SUCCESS';
    },
  };
}

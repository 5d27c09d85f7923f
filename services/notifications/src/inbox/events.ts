import { randomUUID } from 'node:crypto';
import type { ConsumedEvents, EventHandlers, Logger } from '@shop/platform';
import type { InboxRepository } from './repository.ts';

/** The events the inbox turns into notifications, with the versions it reads. */
export const inboxConsumes = { 'user.registered': [1] } as const satisfies ConsumedEvents;

export type InboxEventDeps = { inbox: InboxRepository; logger: Logger };

export function inboxEventHandlers(deps: InboxEventDeps): EventHandlers<typeof inboxConsumes> {
  return {
    'user.registered': async (event) => {
      const outcome = await deps.inbox.insertForEvent(event.id, {
        id: randomUUID(),
        userId: event.data.userId,
        type: 'welcome',
        title: `Welcome to Shop, ${event.data.name}`,
        body: 'Your account is ready.',
        data: { email: event.data.email },
        createdAt: new Date(),
        readAt: null,
      });
      if (outcome === 'duplicate')
        deps.logger.info('duplicate event ignored', { eventId: event.id });
      return 'SUCCESS';
    },
  };
}

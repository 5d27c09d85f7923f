import type { ConsumedEvents, EventHandlers } from '@shop/platform';
import { erasedAmong } from '../account-erasure/repository.ts';
import { type DeliveryDeps, deliverToUsers } from '../inbox/delivery.ts';
import { upsertRecipient } from '../recipients/repository.ts';

/** The users service's event that welcomes a new user, with the versions read. */
export const welcomeConsumes = { 'user.registered': [1] } as const satisfies ConsumedEvents;

export function welcomeHandlers(deps: DeliveryDeps): EventHandlers<typeof welcomeConsumes> {
  return {
    'user.registered': async (event) => {
      const { userId, email, name } = event.data;
      const now = new Date();
      // A redelivery after the account was deleted brings no address back.
      if ((await erasedAmong(deps.db, [userId])).size > 0) return 'SUCCESS';
      // Before the welcome: its email, and every later one, goes to this address.
      await upsertRecipient(deps.db, { userId, email, name }, now);
      const counts = await deliverToUsers(
        deps,
        {
          eventId: event.id,
          type: 'welcome',
          userIds: [userId],
          content: () => ({
            title: `Welcome to Shop, ${name}`,
            body: 'Your account is ready.',
            data: { email },
          }),
        },
        now,
      );
      deps.logger.info('welcome delivered', { userId, ...counts });
      return 'SUCCESS';
    },
  };
}

import { type ConsumedEvents, defineConsumer } from '@shop/platform';
import type { RevokedTokens } from './auth/index.ts';

/**
 * Every event the gateway consumes. Free of side effects: `npm run subscriptions` imports
 * it to write this app's Dapr subscriptions.
 */
export const consumes = { 'user.signed_out': [1] } as const satisfies ConsumedEvents;

/**
 * Users ended a session (logout, password change or reset, a disabled or deleted
 * account): its access tokens are refused from now on. Redis not answering throws, so
 * Dapr delivers the event again.
 */
export function gatewayEvents(revoked: Pick<RevokedTokens, 'endSession'>) {
  return defineConsumer({
    consumes,
    handlers: {
      'user.signed_out': async (event) => {
        await revoked.endSession(event.data.sessionId);
        return 'SUCCESS';
      },
    },
  });
}

import { AppError } from '@shop/platform';
import { Hono } from 'hono';
import { type ExpiryDeps, expirePendingOrders } from './service.ts';

/** The name of the Dapr cron input binding (components/common/order-expiry.yaml), and so its route. */
export const expiryBindingName = 'order-expiry';

/**
 * `POST /order-expiry`, which Dapr's cron binding calls on every replica's sidecar on its
 * schedule. Only the binding may call: it comes with the app token (checked by the app) and
 * names no calling app; an app invoking this route through Dapr is refused.
 */
export function expiryRoutes(deps: ExpiryDeps & { orderTtlSeconds: number }) {
  return new Hono().post(`/${expiryBindingName}`, async (c) => {
    if (c.get('callerAppId')) {
      throw new AppError('forbidden', 'only the order-expiry binding triggers the expiry sweep');
    }
    await expirePendingOrders(deps, new Date(Date.now() - deps.orderTtlSeconds * 1000));
    // An empty answer: Dapr reads a binding's answer body as instructions for other bindings.
    return c.body(null, 200);
  });
}

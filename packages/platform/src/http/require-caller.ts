import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.ts';

/**
 * Admits only calls that Dapr stamped as coming from one of the named apps. The stamp can
 * be trusted because the app token check before it proves the call came through our sidecar.
 *
 * @example
 * app.use('/api/v1/auth/*', requireCaller('gateway'));
 */
export function requireCaller(...appIds: string[]) {
  return createMiddleware(async (c, next) => {
    const caller = c.get('callerAppId');
    if (!caller || !appIds.includes(caller)) {
      throw new AppError('forbidden', `callers allowed here: ${appIds.join(', ')}`);
    }
    await next();
  });
}

/**
 * Calls an app in process the way its sidecar would: with the app token and the calling
 * app's id, which createServiceApp and requireCaller check. Pass `null` as the caller for
 * a pub/sub delivery, which names no calling app.
 *
 * @example
 * const call = viaSidecar(app, 'users-app-token-0123456789');
 * const res = await call('/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
 */
export function viaSidecar(
  app: { request(path: string, init?: RequestInit): Response | Promise<Response> },
  appApiToken: string,
  callerAppId: string | null = 'gateway',
): (path: string, init?: RequestInit) => Promise<Response> {
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('dapr-api-token', appApiToken);
    if (callerAppId && !headers.has('dapr-caller-app-id'))
      headers.set('dapr-caller-app-id', callerAppId);
    return app.request(path, { ...init, headers });
  };
}

/**
 * Calls an app in process the way its sidecar would: with the app token and the calling
 * app's id, which createServiceApp and requireCaller check.
 *
 * @example
 * const call = viaSidecar(app, 'users-app-token-0123456789');
 * const res = await call('/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
 */
export function viaSidecar(
  app: { request(path: string, init?: RequestInit): Response | Promise<Response> },
  appApiToken: string,
  callerAppId = 'gateway',
): (path: string, init?: RequestInit) => Promise<Response> {
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('dapr-api-token', appApiToken);
    if (!headers.has('dapr-caller-app-id')) headers.set('dapr-caller-app-id', callerAppId);
    return app.request(path, { ...init, headers });
  };
}

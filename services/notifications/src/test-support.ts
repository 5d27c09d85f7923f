import { createTestTokens, openApiResponseChecker, viaSidecar } from '@shop/devkit/testing';
import { createLogger, createMemoryDeadLetterStore, openApiDocumentPath } from '@shop/platform';
import { createApp } from './app.ts';
import { createMemoryInboxRepository } from './inbox/repository.ts';

const appApiToken = 'notifications-app-token-0123';

/** The notifications app with its inbox, real token checks, and a way to call it as Dapr would. */
export async function createTestNotifications() {
  const tokens = await createTestTokens();
  const inbox = createMemoryInboxRepository();
  const app = createApp({
    config: { APP_API_TOKEN: appApiToken },
    logger: createLogger({ service: 'notifications', write: () => {} }),
    sidecar: { ready: async () => {} },
    verifier: tokens.verifier,
    inbox,
    deadLetters: createMemoryDeadLetterStore(),
  });
  // Every answer a test receives is checked against the app's OpenAPI document.
  const conforming = openApiResponseChecker(async () =>
    (await viaSidecar(app, appApiToken)(openApiDocumentPath)).json(),
  );
  const call = async (path: string, init: RequestInit & { userId?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.userId) headers.set('authorization', `Bearer ${await tokens.issue(init.userId)}`);
    return conforming(
      init.method ?? 'GET',
      path,
      await viaSidecar(app, appApiToken)(path, { ...init, headers }),
    );
  };
  const fromSubscription = viaSidecar(app, appApiToken, null);
  const deliver = async (event: unknown, route = 'user.registered') => {
    const res = await fromSubscription(`/events/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    return ((await res.json()) as { status: string }).status;
  };
  return { app, appApiToken, inbox, call, deliver };
}

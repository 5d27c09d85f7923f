import {
  createTestTokens,
  type OpenApiDocument,
  undocumentedRoutes,
  viaSidecar,
} from '@shop/devkit/testing';
import {
  createLogger,
  createMemoryDeadLetterStore,
  openApiDocumentPath,
  type Problem,
} from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { createMemoryInboxRepository } from './inbox/repository.ts';
import { createTestNotifications } from './test-support.ts';

describe('notifications app', () => {
  it('documents every public route with its error responses', async () => {
    const { app, call } = await createTestNotifications();
    const res = await call(openApiDocumentPath);
    expect(res.status).toBe(200);
    expect(undocumentedRoutes(app.routes, (await res.json()) as OpenApiDocument)).toEqual([]);
  });

  it.each([
    ['GET', '/api/v1/notifications'],
    ['POST', '/api/v1/notifications/n-1/read'],
  ])('refuses %s %s from an app other than the gateway', async (method, path) => {
    const { call } = await createTestNotifications();
    const res = await call(path, {
      method,
      userId: 'alice',
      headers: { 'dapr-caller-app-id': 'orders' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as Problem).detail).toContain('gateway');
  });

  it('verifies the access token once per request, on the list path and below it', async () => {
    const tokens = await createTestTokens();
    let verifications = 0;
    const appApiToken = 'notifications-app-token-0123';
    const app = createApp({
      config: { APP_API_TOKEN: appApiToken },
      logger: createLogger({ service: 'notifications', write: () => {} }),
      sidecar: { ready: async () => {} },
      verifier: {
        verify: (token) => {
          verifications++;
          return tokens.verifier.verify(token);
        },
      },
      inbox: createMemoryInboxRepository(),
      deadLetters: createMemoryDeadLetterStore(),
    });
    const call = viaSidecar(app, appApiToken);
    const authorization = `Bearer ${await tokens.issue('alice')}`;
    expect((await call('/api/v1/notifications', { headers: { authorization } })).status).toBe(200);
    expect(verifications).toBe(1);
    const read = await call('/api/v1/notifications/n-1/read', {
      method: 'POST',
      headers: { authorization },
    });
    expect(read.status).toBe(404);
    expect(verifications).toBe(2);
  });
});

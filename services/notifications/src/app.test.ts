import { pollUntil } from '@shop/devkit/process';
import {
  createTestTokens,
  eventFixture,
  type OpenApiDocument,
  readEventStream,
  seriesValue,
  silentLogger,
  undocumentedRoutes,
  viaSidecar,
} from '@shop/devkit/testing';
import { openApiDocumentPath, type Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { sendDueMail } from './email/sender.ts';
import { createTestNotifications, useTestNotifications } from './test-support.ts';

describe('notifications app', () => {
  const notifications = useTestNotifications();

  documentationAndCallerCases({ notifications });
  restartCases({ notifications });
  tokenCases({ notifications });
  metricsCases({ notifications });
});

type Ctx = { notifications: ReturnType<typeof useTestNotifications> };

function documentationAndCallerCases({ notifications }: Ctx) {
  it('documents every public route with its error responses', async () => {
    const { app, call } = await notifications();
    const res = await call(openApiDocumentPath);
    expect(res.status).toBe(200);
    expect(undocumentedRoutes(app.routes, (await res.json()) as OpenApiDocument)).toEqual([]);
  });

  it.each([
    ['GET', '/api/v1/notifications'],
    ['GET', '/api/v1/notifications/unread-count'],
    ['GET', '/api/v1/notifications/preferences'],
    ['POST', '/api/v1/notifications/n-1/read'],
  ])('refuses %s %s from an app other than the gateway', async (method, path) => {
    const { call } = await notifications();
    const res = await call(path, {
      method,
      userId: 'alice',
      headers: { 'dapr-caller-app-id': 'orders' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as Problem).detail).toContain('gateway');
  });
}

function restartCases({ notifications }: Ctx) {
  it('keeps its dead letters and its notifications across a restart of the database server', async () => {
    const mongo = notifications.mongo();
    const before = await notifications();
    const poison = { id: 'poison-1', type: 'user.registered', specversion: '1.0', data: {} };
    const sink = await before.app.request('/dead-letters', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': before.appApiToken },
      body: JSON.stringify(poison),
    });
    expect(sink.status).toBe(200);
    const welcome = eventFixture('user.registered', {
      userId: 'kim',
      email: 'kim@example.com',
      name: 'Kim',
    });
    expect(await before.deliver(welcome)).toBe('SUCCESS');

    await mongo.restart();
    const after = await createTestNotifications(mongo, { databaseUrl: before.databaseUrl });
    try {
      const letters = await after.call('/admin/dead-letters', {
        headers: { 'dapr-caller-app-id': 'notifications' },
      });
      expect(((await letters.json()) as { items: unknown[] }).items).toEqual([
        expect.objectContaining({ id: 'poison-1', type: 'user.registered', event: poison }),
      ]);
      expect(await after.notificationsOf('kim')).toEqual([
        expect.objectContaining({ type: 'welcome', sourceKey: `${welcome.id}:kim` }),
      ]);
      // The same event after the restart still finds its notification there.
      expect(await after.deliver(welcome)).toBe('SUCCESS');
      expect(await after.notificationsOf('kim')).toHaveLength(1);
    } finally {
      await after.close();
    }
  });
}

function tokenCases({ notifications }: Ctx) {
  it('verifies the access token once per request, on the list path and below it', async () => {
    const tokens = await createTestTokens();
    let verifications = 0;
    const subject = await notifications();
    const app = createApp({
      config: { APP_API_TOKEN: subject.appApiToken, PUBLIC_URL: 'https://shop.test' },
      logger: silentLogger(),
      db: subject.db,
      audience: { page: async () => ({ userIds: [], nextCursor: null }) },
      readiness: { sidecar: async () => {}, database: async () => {} },
      streams: { hub: subject.streams, limits: subject.streamLimits, heartbeatMs: 15_000 },
      verifier: {
        verify: (token) => {
          verifications++;
          return tokens.verifier.verify(token);
        },
      },
    });
    const call = viaSidecar(app, subject.appApiToken);
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
}

function metricsCases({ notifications }: Ctx) {
  it('reports the streams open on this replica as notifications_open_streams', async () => {
    const { app, appApiToken, tokenFor } = await notifications();
    const open = () => seriesValue(app, 'notifications_open_streams');
    expect(await open()).toBe(0);
    const res = await viaSidecar(app, appApiToken)('/api/v1/notifications/stream', {
      headers: { authorization: `Bearer ${await tokenFor('alice')}` },
    });
    expect(res.status).toBe(200);
    const stream = readEventStream(res);
    expect(await stream.next()).toEqual({ kind: 'comment', text: 'subscribed' });
    expect(await open()).toBe(1);
    await stream.close();
    await pollUntil(async () => ((await open()) === 0 ? true : undefined), {
      what: 'notifications_open_streams to be 0 after the client went away',
      timeoutMs: 5_000,
    });
  });

  it('reports the mails not sent yet as notifications_mail_queued', async () => {
    const { app, deliver, emailStore } = await notifications({ mongoEmail: true });
    const queued = () => seriesValue(app, 'notifications_mail_queued');
    expect(await queued()).toBe(0);
    const registered = eventFixture('user.registered', { userId: 'u-mail', email: 'a@b.test' });
    for (let i = 0; i < 2; i++) expect(await deliver(registered)).toBe('SUCCESS');
    expect(await queued()).toBe(1);
    const sent = await sendDueMail({
      outbox: emailStore,
      sidecar: { invokeBinding: async () => '' },
      logger: silentLogger(),
      from: 'Shop <no-reply@shop.test>',
      backoffMs: 1_000,
      maxBackoffMs: 8_000,
    });
    expect(sent).toBe(1);
    expect(await queued()).toBe(0);
  });
}

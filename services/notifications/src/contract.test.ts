import { describeServiceContract } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { type TestNotifications, useTestNotifications } from './test-support.ts';

describe('notifications', () => {
  const notifications = useTestNotifications();
  let subject: TestNotifications;
  beforeAll(async () => {
    subject = await notifications();
  });
  describeServiceContract({
    subject: () => ({ app: subject.app, appApiToken: subject.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/notifications' },
    // No jsonRoute: its one JSON route authenticates first, so malformed JSON from a user
    // is tested in preferences/routes.test.ts.
    consumesEvents: true,
  });
});

import { describeServiceContract } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { createTestNotifications } from './test-support.ts';

describe('notifications', () => {
  let subject: Awaited<ReturnType<typeof createTestNotifications>>;
  beforeAll(async () => {
    subject = await createTestNotifications();
  });
  describeServiceContract({
    subject: () => ({ app: subject.app, appApiToken: subject.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/notifications' },
    consumesEvents: true,
  });
});

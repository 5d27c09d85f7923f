import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { type TestNotifications, useTestNotifications } from './test-support.ts';

describe('notifications', () => {
  const notifications = useTestNotifications();
  let subject: TestNotifications;
  const tokens: string[] = [];
  beforeAll(async () => {
    subject = await notifications();
    tokens.push(await subject.tokenFor('fuzz-user'), await subject.tokenFor('other-user'));
  });
  describeOperationFuzz({
    subject: () => ({ app: subject.app, appApiToken: subject.appApiToken, tokens }),
  });
});

import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { useOrdersApp } from './test-support.ts';

describe('orders on postgres', () => {
  const orders = useOrdersApp('postgres');
  const tokens: string[] = [];
  beforeAll(async () => {
    tokens.push((await orders.newUser('admin')).token, (await orders.newUser()).token);
  });
  describeOperationFuzz({
    subject: () => ({ app: orders.get().app, appApiToken: orders.appApiToken, tokens }),
  });
});

import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { useInventoryApp } from './test-support.ts';

describe('inventory on postgres', () => {
  const inventory = useInventoryApp('postgres');
  const tokens: string[] = [];
  beforeAll(async () => {
    tokens.push(await inventory.adminToken(), await inventory.customerToken());
  });
  describeOperationFuzz({
    subject: () => ({ app: inventory.get().app, appApiToken: inventory.appApiToken, tokens }),
  });
});

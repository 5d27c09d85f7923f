import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { usePaymentsApp } from './test-support.ts';

describe('payments on postgres', () => {
  const payments = usePaymentsApp('postgres');
  const tokens: string[] = [];
  beforeAll(async () => {
    tokens.push(await payments.issueToken('admin'), await payments.issueToken('customer'));
  });
  describeOperationFuzz({
    subject: () => ({ app: payments.get().app, appApiToken: payments.appApiToken, tokens }),
  });
});

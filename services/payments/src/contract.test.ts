import { databaseBackends, describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { usePaymentsApp } from './test-support.ts';

describe.each(databaseBackends)('payments on %s', (backend) => {
  const payments = usePaymentsApp(backend);
  describeServiceContract({
    subject: () => ({ app: payments.get().app, appApiToken: payments.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/admin/payments' },
    consumesEvents: true,
  });
});

import { databaseBackends, describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { useOrdersApp } from './test-support.ts';

describe.each(databaseBackends)('orders on %s', (backend) => {
  const orders = useOrdersApp(backend);
  // No jsonRoute: every orders route needs a token first; placement.test.ts sends malformed
  // JSON with one.
  describeServiceContract({
    subject: () => ({ app: orders.get().app, appApiToken: orders.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/orders' },
    consumesEvents: true,
  });
});

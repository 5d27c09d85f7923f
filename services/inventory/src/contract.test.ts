import { databaseBackends, describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { useInventoryApp } from './test-support.ts';

describe.each(databaseBackends)('inventory on %s', (backend) => {
  const inventory = useInventoryApp(backend);
  describeServiceContract({
    subject: () => ({ app: inventory.get().app, appApiToken: inventory.appApiToken }),
    publicRoute: {
      method: 'GET',
      path: '/api/v1/products/00000000-0000-4000-8000-000000000000/stock',
    },
    // No jsonRoute: its one JSON route authenticates first, so malformed JSON from an admin
    // is tested in stock/routes.test.ts.
    consumesEvents: true,
  });
});

import { databaseBackends, describeServiceContract } from '@shop/devkit/testing';
import { describe } from 'vitest';
import { useCatalogApp } from './test-support.ts';

describe.each(databaseBackends)('catalog on %s', (backend) => {
  const catalog = useCatalogApp(backend);
  describeServiceContract({
    subject: () => ({ app: catalog.get().app, appApiToken: catalog.appApiToken }),
    publicRoute: { method: 'GET', path: '/api/v1/products' },
    jsonRoute: { method: 'POST', path: '/internal/products/batch' },
    consumesEvents: true,
  });
});

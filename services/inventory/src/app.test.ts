import { type OpenApiDocument, undocumentedRoutes } from '@shop/devkit/testing';
import { openApiDocumentPath } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useInventoryApp } from './test-support.ts';

describe('inventory app', () => {
  const inventory = useInventoryApp('pglite');

  it('documents every public route with its error responses, If-Match, ETag and the bearer scheme', async () => {
    const res = await inventory.call('GET', openApiDocumentPath);
    expect(res.status).toBe(200);
    const document = (await res.json()) as OpenApiDocument;
    expect(undocumentedRoutes(inventory.get().app.routes, document)).toEqual([]);
    const path = document.paths?.['/api/v1/products/{id}/stock'];
    expect(path?.get).toMatchObject({ security: [{ bearer: [] }] });
    expect(Object.keys(path?.put?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '412',
      '413',
      '500',
    ]);
    expect(JSON.stringify(path?.put)).toContain('if-match');
    expect(JSON.stringify(path?.get?.responses?.['200'])).toContain('ETag');
  });
});

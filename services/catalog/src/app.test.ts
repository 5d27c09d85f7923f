import { type OpenApiDocument, undocumentedRoutes } from '@shop/devkit/testing';
import { openApiDocumentPath } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useCatalogApp } from './test-support.ts';

describe('catalog app', () => {
  const catalog = useCatalogApp('pglite');

  it('documents every public route with its error responses, the internal reads and the bearer scheme', async () => {
    const res = await catalog.call('GET', openApiDocumentPath);
    expect(res.status).toBe(200);
    const document = (await res.json()) as OpenApiDocument;
    expect(undocumentedRoutes(catalog.get().app.routes, document)).toEqual([]);
    expect(Object.keys(document.paths ?? {}).sort()).toEqual([
      '/api/v1/categories',
      '/api/v1/products',
      '/api/v1/products/{id}',
      '/api/v1/wishlist',
      '/api/v1/wishlist/{productId}',
      '/internal/products/batch',
      '/internal/products/{id}/wishlisters',
    ]);
    expect(document.paths?.['/api/v1/products']?.post).toMatchObject({
      security: [{ bearer: [] }],
    });
    expect(document.paths?.['/api/v1/products']?.get).not.toHaveProperty('security');
  });
});

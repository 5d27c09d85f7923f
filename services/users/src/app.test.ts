import { type OpenApiDocument, undocumentedRoutes } from '@shop/devkit/testing';
import { openApiDocumentPath } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { useUsersApp } from './test-support.ts';

describe('users app', () => {
  const users = useUsersApp('pglite');

  it('documents every public route with its error responses, and the bearer scheme', async () => {
    const res = await users.call('GET', openApiDocumentPath);
    expect(res.status).toBe(200);
    const document = (await res.json()) as OpenApiDocument & {
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(undocumentedRoutes(users.get().app.routes, document)).toEqual([]);
    expect(document.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(document.paths?.['/api/v1/users/me']?.get).toMatchObject({ security: [{ bearer: [] }] });
  });
});
